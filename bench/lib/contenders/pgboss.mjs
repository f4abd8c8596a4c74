/**
 * pg-boss on PostgreSQL. Defaults: one job per fetch, a 2 s polling interval, `localConcurrency`
 * set to the scenario's concurrency. Tuned (its documented knobs): LISTEN/NOTIFY on
 * (`useListenNotify` + a `notify` queue: wakes at once), the minimum 0.5 s poll, and batches: 2 local workers each fetching `concurrency / 2`
 * jobs, run side by side and completed in one statement, with `burstWhenBatchFull` so a worker
 * fetches again at once while its batches come back full.
 * Completed jobs stay in its table (a record), like ours.
 */
import { PgBoss } from 'pg-boss';
import pg from 'pg';

export const description = 'pg-boss (PostgreSQL)';

export async function open(o) {
  const tuned = o.variant === 'tuned';
  const connectionString = o.env.pg.url;
  const boss = new PgBoss({ connectionString, max: o.env.poolSize, ...(tuned ? { useListenNotify: true } : {}) });
  boss.on('error', (e) => console.error('pg-boss error', e.message));
  await boss.start();
  if (!(await boss.getQueue('bench'))) await boss.createQueue('bench', tuned ? { notify: true } : {});
  if (o.worker) {
    const { handler } = o.worker;
    const c = o.worker.concurrency;
    const options = tuned
      ? { localConcurrency: Math.min(2, c), batchSize: Math.max(1, Math.floor(c / 2)), pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }
      : { localConcurrency: c, batchSize: 1 };
    await boss.work('bench', options, (jobs) => Promise.all(jobs.map((job) => handler(job.data, async () => undefined))));
  }
  const counter = new pg.Client({ connectionString });
  await counter.connect();
  return {
    enqueue: (data) => boss.send('bench', data),
    enqueueBulk: (datas) => boss.insert('bench', datas.map((data) => ({ data }))),
    async countDone() {
      const { rows } = await counter.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'bench' AND state = 'completed'`);
      return rows[0].n;
    },
    async close() {
      await boss.stop({ graceful: true, wait: true, timeout: 5000 });
      await counter.end();
    },
  };
}
