import 'reflect-metadata';
import { DataSource } from 'typeorm';
import Database from 'better-sqlite3';
import fs from 'node:fs';
const [distName, variant] = process.argv.slice(2);
const dist = distName === 'head' ? '/work/main/dist/index.js' : `/work/main/node_modules/.nmj-${distName}/index.js`;
const { managedJobsMigrations, managedJobsEntities } = await import(dist);
const file = `/tmp/micro-${distName}.sqlite`;
for (const f of [file, file + '-wal', file + '-shm']) fs.rmSync(f, { force: true });
const ds = new DataSource({ type: 'better-sqlite3', database: file, entities: managedJobsEntities, migrations: managedJobsMigrations('better-sqlite3'), migrationsRun: true });
await ds.initialize(); 
if (variant) for (const q of variant.split(';')) await ds.query(q);
await ds.destroy();
const db = new Database(file); db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
const N = 40000;
const now = () => new Date().toISOString().replace('T', ' ').replace('Z', '');
const ins = db.prepare(`INSERT INTO managed_jobs (job_id, type, queue, status, priority, payload, max_attempts, idempotent, available_at, created_at, updated_at) VALUES (?, 'bench-noop', 'default', 'pending', 0, '{}', 1, 0, ?, ?, ?)`);
let t = performance.now();
db.transaction(() => { for (let i = 0; i < N; i++) { const n = now(); ins.run(`0190${String(i).padStart(8, '0')}-0000-7000-8000-000000000000`, n, n, n); } })();
const tIns = performance.now() - t;
const claim = db.prepare(`UPDATE managed_jobs SET status = 'running', attempts = attempts + 1, fence = fence + 1,
    lease_owner = @workerId, lease_expires_at = @leaseUntil, started_at = @now, finished_at = NULL, updated_at = @now
  WHERE job_id IN (SELECT job_id FROM managed_jobs WHERE status = 'pending' AND queue = @queue AND available_at <= @now AND type IN (SELECT value FROM json_each(@types))
    ORDER BY priority DESC, job_id LIMIT @limit) RETURNING *`);
const complete = db.prepare(`UPDATE managed_jobs SET status = 'completed', result = @result, progress_percentage = @progress, progress_message = @message, failed_reason = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = @now, updated_at = @now WHERE job_id = @jobId AND fence = @fence AND status = 'running' RETURNING job_id, attempts, started_at, finished_at`);
let tc = 0, td = 0;
for (let k = 0; k < N / 50; k++) {
  const n = now();
  t = performance.now();
  const rows = db.transaction(() => claim.all({ workerId: 'w', leaseUntil: n, now: '9999-12-31 00:00:00.000', queue: 'default', types: '["bench-noop"]', limit: 50 }))();
  tc += performance.now() - t; if (k === 0) console.log("claimed", rows.length);
  t = performance.now();
  db.transaction(() => { for (const r of rows) complete.get({ result: null, progress: 100, message: null, now: n, jobId: r.job_id, fence: r.fence }); })();
  td += performance.now() - t;
}
console.log(distName, variant ?? '', 'insert us/job', (tIns * 1000 / N).toFixed(1), 'claim us/job', (tc * 1000 / N).toFixed(1), 'complete us/job', (td * 1000 / N).toFixed(1));
