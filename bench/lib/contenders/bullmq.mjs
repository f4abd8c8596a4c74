/**
 * BullMQ on Redis, defaults: completed jobs are kept (no removeOnComplete), so it keeps a record
 * too. Its worker blocks on Redis (BZPOPMIN) rather than polling, so there is no slow default to tune.
 */
import { Queue, Worker } from 'bullmq';

export const description = 'BullMQ (Redis), defaults; completed jobs kept';

export async function open(o) {
  const connection = { host: o.env.redis.host, port: o.env.redis.port, maxRetriesPerRequest: null };
  const queue = new Queue('bench', { connection });
  await queue.waitUntilReady();
  let worker;
  if (o.worker) {
    const { handler } = o.worker;
    worker = new Worker('bench', (job) => handler(job.data, (p) => job.updateProgress(p)), { connection, concurrency: o.worker.concurrency });
    worker.on('error', (e) => console.error('bullmq worker error', e.message));
    await worker.waitUntilReady();
  }
  return {
    enqueue: (data) => queue.add('noop', data),
    enqueueBulk: (datas) => queue.addBulk(datas.map((data) => ({ name: 'noop', data }))),
    countDone: () => queue.getCompletedCount(),
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}
