/**
 * graphile-worker on PostgreSQL. Defaults: `concurrency` = the scenario's, LISTEN/NOTIFY
 * wake-ups, 2 s poll fallback, one fetch and one completion per job. Tuned (its documented
 * batching, worker.graphile.org/docs/performance): a local queue of `concurrency` jobs per fetch
 * and batched completions (`completeJobBatchDelay: 0`). It deletes a job when it completes: no
 * record is kept, so it does less work per job than a tracked queue.
 */
import { run, makeWorkerUtils, Logger } from 'graphile-worker';

export const description = 'graphile-worker (PostgreSQL); deletes completed jobs';

const quiet = new Logger(() => (level, message) => {
  if (level === 'error') console.error('graphile-worker:', message);
});

export async function open(o) {
  const tuned = o.variant === 'tuned';
  const connectionString = o.env.pg.url;
  const utils = await makeWorkerUtils({ connectionString, logger: quiet });
  await utils.migrate();
  let runner;
  if (o.worker) {
    const { handler } = o.worker;
    runner = await run({
      connectionString,
      concurrency: o.worker.concurrency,
      maxPoolSize: o.env.poolSize,
      noHandleSignals: true,
      logger: quiet,
      taskList: { noop: (payload) => handler(payload, async () => undefined) },
      ...(tuned ? { preset: { worker: { localQueue: { size: o.worker.concurrency }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } } : {}),
    });
  }
  let total = 0;
  return {
    enqueue: (data) => utils.addJob('noop', data),
    enqueueBulk: (datas) => utils.addJobs(datas.map((payload) => ({ identifier: 'noop', payload }))),
    /** Completed jobs are deleted: done = jobs ever added minus those left. */
    async countDone(expected) {
      total = expected ?? total;
      const { rows } = await utils.withPgClient((c) => c.query(`SELECT count(*)::int AS n FROM graphile_worker._private_jobs`));
      return total - rows[0].n;
    },
    async close() {
      await runner?.stop();
      await utils.release();
    },
  };
}
