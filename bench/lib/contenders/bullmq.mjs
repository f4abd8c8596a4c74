/**
 * BullMQ on Redis, defaults: completed jobs are kept (no removeOnComplete), so it keeps a record
 * too. Its worker blocks on Redis (BZPOPMIN) rather than polling, so there is no slow default to tune.
 *
 * Batches are `FlowProducer` flows: a no-op parent (queue `bench-batches`, its own worker at the
 * same concurrency) with the members as children (queue `bench`); the parent runs once every child
 * has completed, which is BullMQ's "the batch is done".
 */
import { FlowProducer, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { fillFinished } from '../fill/bullmq.mjs';

export const description = 'BullMQ (Redis), defaults; completed jobs kept';

const PARENTS = 'bench-batches';

export async function open(o) {
  const connection = { host: o.env.redis.host, port: o.env.redis.port, maxRetriesPerRequest: null };
  const queue = new Queue('bench', { connection });
  await queue.waitUntilReady();
  let worker;
  let parents;
  let flows;
  let counter;
  if (o.worker) {
    const { handler } = o.worker;
    worker = new Worker('bench', (job) => handler(job.data, (p) => job.updateProgress(p)), { connection, concurrency: o.worker.concurrency });
    worker.on('error', (e) => console.error('bullmq worker error', e.message));
    await worker.waitUntilReady();
    if (o.batches) {
      parents = new Worker(PARENTS, async () => undefined, { connection, concurrency: o.worker.concurrency });
      parents.on('error', (e) => console.error('bullmq parent worker error', e.message));
      await parents.waitUntilReady();
    }
  }
  const parentQueue = o.batches ? new Queue(PARENTS, { connection }) : null;
  return {
    enqueue: (data) => queue.add('noop', data),
    enqueueBulk: (datas) => queue.addBulk(datas.map((data) => ({ name: 'noop', data }))),
    /** Completed jobs; with `sinceMs`, only those finished since (a range of its sorted set, which `clean` shrinks meanwhile). */
    async countDone(_expected, sinceMs) {
      if (!sinceMs) return queue.getCompletedCount();
      counter ??= new Redis(connection);
      return counter.zcount(`${queue.qualifiedName}:completed`, sinceMs, '+inf');
    },
    enqueueBatch(datas) {
      flows ??= new FlowProducer({ connection });
      return flows.add({ name: 'batch', queueName: PARENTS, data: {}, children: datas.map((data) => ({ name: 'noop', queueName: 'bench', data })) });
    },
    countBatchesDone: () => parentQueue.getCompletedCount(),
    /** A page of 20 completed jobs, newest first (BullMQ has no owners: the closest "my jobs" page). */
    listOwner: () => queue.getJobs(['completed'], 0, 19),
    /** Counts by state, the closest to the operator's stats. */
    stats: () => queue.getJobCounts(),
    async fillFinished(f) {
      const [tpl] = await queue.getJobs(['completed'], 0, 0);
      const ms = await fillFinished(queue, connection, { ...f, templateId: tpl.id });
      const counts = await queue.getJobCounts('completed', 'failed');
      return { ms, table: { ...counts, templateFields: Object.keys((await queue.getJob(tpl.id)).asJSON()).length } };
    },
    /**
     * BullMQ's own cleanup, `queue.clean(grace, 1000, state)` in a loop (its documented batched use)
     * over completed and failed jobs: each call is one Lua script, which holds Redis for its whole run.
     */
    async prune(olderThanDays) {
      const statements = [];
      let pruned = 0;
      for (const state of ['completed', 'failed']) {
        for (;;) {
          const t = performance.now();
          const ids = await queue.clean(olderThanDays * 86_400_000, 1000, state);
          statements.push({ name: `clean ${state}`, ms: performance.now() - t });
          pruned += ids.length;
          if (ids.length < 1000) break;
        }
      }
      return { pruned, statements };
    },
    async close() {
      await worker?.close();
      await parents?.close();
      await flows?.close();
      await parentQueue?.close();
      await queue.close();
      await counter?.quit();
    },
  };
}
