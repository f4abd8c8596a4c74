import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
const sql = await import(pathToFileURL(path.resolve('../dist/store/sql/sqlite.sql.js')).href);
const mod = await import('./lib/contenders/ours.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exps-'));
const env = { sqliteFile: path.join(tmp, 'db.sqlite'), tmp };
const q = await mod.open({ db: 'sqlite', env });
for (let i = 0; i < 20; i++) await q.enqueueBulk(Array.from({ length: 1000 }, (_, j) => ({ i: i * 1000 + j })));
await q.close();
const db = new Database(env.sqliteFile); for (const ix of (process.env.DROP ?? '').split(',').filter(Boolean)) db.exec('DROP INDEX ' + ix);
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
const claim = db.prepare(sql.CLAIM_JOBS), complete = db.prepare(sql.COMPLETE_JOB), ledger = db.prepare(sql.INSERT_ATTEMPT);
const B = 50; let tc = 0, tco = 0, tl = 0, tx = 0, n = 0;
const t0 = performance.now();
while (n < 20000) {
  const t1 = performance.now();
  db.exec('BEGIN IMMEDIATE');
  const a = performance.now();
  const rows = claim.all('w', 30000, 'default', '["bench-noop"]', B);
  const b = performance.now();
  for (const r of rows) {
    const c1 = performance.now();
    const row = complete.get(null, 100, null, r.job_id, r.fence);
    const c2 = performance.now();
    ledger.run(r.job_id, r.fence, row.attempts, 'w', row.started_at, row.finished_at, 'completed', null);
    tl += performance.now() - c2; tco += c2 - c1;
  }
  const c = performance.now();
  db.exec('COMMIT');
  tx += performance.now() - c + (a - t1); tc += b - a;
  n += rows.length;
  if (!rows.length) break;
}
const ms = performance.now() - t0;
console.log(`${n} jobs ${(n / ms * 1000).toFixed(0)} jobs/s; claim ${(tc / n * 1000).toFixed(1)} µs/job, complete ${(tco / n * 1000).toFixed(1)}, ledger ${(tl / n * 1000).toFixed(1)}, begin+commit ${(tx / n * 1000).toFixed(1)}`);
