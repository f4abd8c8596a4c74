import 'reflect-metadata';
import { DataSource } from 'typeorm';
import fs from 'node:fs';
const { managedJobsMigrations, managedJobsEntities } = await import('/work/main/dist/index.js');
const file = '/tmp/plan.sqlite';
const fresh = !fs.existsSync(file);
const ds = new DataSource({ type: 'better-sqlite3', database: file, entities: managedJobsEntities, migrations: managedJobsMigrations('better-sqlite3'), migrationsRun: true });
await ds.initialize();
const n = 1000000;
const STATUS_CASE = (i) => `CASE WHEN ${i} % 100 < 90 THEN 'completed' WHEN ${i} % 100 < 95 THEN 'failed' WHEN ${i} % 100 < 97 THEN 'pending' WHEN ${i} % 100 < 98 THEN 'running' ELSE 'stopped' END`;
if (fresh) {
  await ds.query(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
    INSERT INTO managed_jobs (job_id, type, queue, status, priority, payload, available_at, created_at, updated_at, finished_at, attempts, max_attempts, lease_expires_at)
    SELECT printf('01900000-0000-7000-8000-%012x', i), 'type-' || (i % 7), 'q' || (i % 5), ${STATUS_CASE('i')}, 0, '{}',
      strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 1, 1,
      CASE WHEN i % 100 >= 97 AND i % 100 < 98 THEN strftime('%Y-%m-%d %H:%M:%f', 'now', '+1 hour') END FROM s`);
  await ds.query('ANALYZE');
}
for (const q of process.argv.slice(2)) {
  console.log('Q:', q.slice(0, 200));
  for (const r of await ds.query('EXPLAIN QUERY PLAN ' + q)) console.log('  ', r.detail);
  const t = performance.now(); await ds.query(q); console.log('   ms', (performance.now() - t).toFixed(1));
}
await ds.destroy();
