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
const starts = [];
let handlerAt = 0;
const q = await mod.open({ db: 'postgres', env: { pg: { ...server, database: dbName }, poolSize: 10, tmp: '/tmp' }, worker: { concurrency: 10, handler: async (d) => { if (d?.t) { handlerAt = T(); starts.push(T() - d.t); } } } });
await sleep(1500);
const traces = [];
for (let i = 0; i < 40; i++) {
  log.length = 0;
  const t = T();
  await q.enqueue({ t });
  const tDisp = T();
  while (handlerAt < t) await sleep(0);
  const ev = log.filter(([a]) => a >= t).map(([a, b, l]) => `${(a - t).toFixed(2)}..${(b - t).toFixed(2)} ${l}`);
  traces.push({ total: handlerAt - t, disp: tDisp - t, ev });
  await sleep(20);
}
traces.sort((a, b) => a.total - b.total);
const med = traces[traces.length >> 1];
console.log('median total', med.total.toFixed(2), 'dispatch', med.disp.toFixed(2));
for (const e of med.ev) console.log('  ', e);
console.log('p90', traces[Math.floor(traces.length * 0.9)].total.toFixed(2));
await q.close();
await server.stop?.();
process.exit(0);
