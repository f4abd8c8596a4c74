import { startPostgres } from './lib/services.mjs';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
const pg = await startPostgres();
const db = await pg.createDatabase();
const mod = await import('./lib/contenders/ours.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exp-'));
const dbKind = process.env.DB ?? 'postgres';
const env = { pg: { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: db }, poolSize: 10, tmp, sqliteFile: path.join(tmp, 'x.sqlite') };
const N = Number(process.env.N ?? 60000);
const { execFileSync } = await import('node:child_process');
execFileSync(process.execPath, ['.exp-prod.mjs', JSON.stringify({ ...env, dbKind, N })], { stdio: 'ignore' });
let done = 0;
const q = await mod.open({ db: dbKind, env, worker: { concurrency: 10, handler: async () => { done++; } } });
const mb = (x) => (x / 2 ** 20).toFixed(0);
let next = 0;
while (done < N) {
  await new Promise((r) => setTimeout(r, 100)); if (process.env.POLL) await q.countDone();
  if (done >= next || process.env.ALL) { global.gc(); const m = process.memoryUsage(); console.log(done, 'rss', mb(m.rss), 'heap', mb(m.heapUsed), 'heapTotal', mb(m.heapTotal), 'ext', mb(m.external), 'ab', mb(m.arrayBuffers)); next += 10000; }
}
await q.close();
await pg.stop();
