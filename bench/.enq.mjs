// Latency trace: in-process PG, one job at a time; logs query/notification timings.
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres } from './lib/services.mjs';
const require = createRequire(import.meta.url);
const pg = createRequire('/work/main/node_modules/typeorm/package.json')('pg');
const log = [];
const T = () => performance.now();
pg.Client.prototype.on && 0;
const origEmit = pg.Client.prototype.emit;
pg.Client.prototype.emit = function (ev, ...a) { if (ev === 'notification') log.push([T(), T(), 'NOTIFICATION ' + (a[0]?.channel ?? '')]); return origEmit.call(this, ev, ...a); };
const origQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, cb) {
  const text = typeof config === 'string' ? config : config?.text;
  const t0 = T();
  const label = String(text).replace(/\s+/g, ' ').slice(0, 70);
  if (typeof values === 'function') { const f = values; values = (...a) => { log.push([t0, T(), label]); return f(...a); }; }
  else if (typeof cb === 'function') { const f = cb; cb = (...a) => { log.push([t0, T(), label]); return f(...a); }; }
  else if (config && typeof config.callback === 'function') { const f = config.callback; config.callback = (...a) => { log.push([t0, T(), label]); return f(...a); }; }
  const r = origQuery.call(this, config, values, cb);
  if (r && typeof r.then === 'function') r.then(() => log.push([t0, T(), label]), () => undefined);
  return r;
};
const server = await startPostgres();
const dbName = 'lat' + Date.now();
await (async () => { const c = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres' }); await c.connect(); await c.query(`CREATE DATABASE ${dbName}`); await c.end(); })();
const mod = await import('./lib/contenders/ours.mjs');

const q = await mod.open({ db: 'postgres', env: { pg: { ...server, database: dbName }, poolSize: 10, tmp: '/tmp' } });
for (let i = 0; i < 50; i++) await q.enqueue({ warm: i });
for (let round = 0; round < 3; round++) {
  log.length = 0;
  const n = 2000; let next = 0;
  const t0 = T(); const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: 10 }, async () => { while (next < n) { next++; await q.enqueue({ i: next }); } }));
  const ms = T() - t0; const cpu = process.cpuUsage(c0);
  const qms = log.reduce((a, [x, y]) => a + (y - x), 0);
  const kinds = {}; for (const [, , l] of log) kinds[l.slice(0, 40)] = (kinds[l.slice(0, 40)] || 0) + 1;
  console.log('jobs/s', Math.round(n / ms * 1000), 'cpu us/job', Math.round((cpu.user + cpu.system) / n), 'queries', log.length, 'avg query ms', (qms / log.length).toFixed(2), JSON.stringify(kinds));
}
await q.close();
await server.stop?.();
process.exit(0);
