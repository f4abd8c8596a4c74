/**
 * The lease keeper (lib/worker/lease-keeper.ts) against a real database: held runs keep their lease
 * past `leaseMs` — renewed by the event loop, and by the thread while the loop is blocked (a
 * CPU-bound handler) — a run stopped elsewhere is reported, a released run is no longer renewed,
 * and `stop()` ends the thread. Without `leaseRenewal` (no thread) the loop alone renews.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, type INestApplication } from '@nestjs/common';
import { JobRunnerService, JobStatus } from '../../lib/index.js';
import { JOB_STORE } from '../../lib/managed-jobs.constants.js';
import type { JobStore, RunRef } from '../../lib/store/job-store.interface.js';
import { LeaseKeeper } from '../../lib/worker/lease-keeper.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { LongJob, Probe } from '../fixtures/jobs.js';

const LEASE_MS = 1000;
const WORKER = 'keeper-test';

describe.each(dialects)('the lease keeper on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let store: JobStore;

  beforeEach(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: [Probe, LongJob], options: { worker: { enabled: false } } });
    store = app.get(JOB_STORE);
  });

  afterEach(async () => {
    await app.close();
    await db.drop();
  });

  it.each(['thread', 'event loop'] as const)('renews held runs (%s), reports a stopped one, drops a released one', async (where) => {
    const runner = app.get(JobRunnerService);
    await runner.dispatchMany(LongJob, [{ payload: {} }, { payload: {} }, { payload: {} }]);
    const claimed = await store.claim({ queue: 'default', types: ['long'], limit: 3, workerId: WORKER, leaseMs: LEASE_MS });
    expect(claimed).toHaveLength(3);
    const [kept, stopped, released] = claimed;

    const lost: RunRef[] = [];
    // A store without `leaseRenewal` (a dialect that cannot renew from a thread) is renewed from the loop.
    const keeperStore = where === 'thread' ? store : (Object.create(store, { leaseRenewal: { value: undefined } }) as JobStore);
    const keeper = new LeaseKeeper({ store: keeperStore, logger: new Logger('test'), workerId: WORKER, leaseMs: LEASE_MS, intervalMs: 100, onLost: (runs) => lost.push(...runs) });
    keeper.start();
    try {
      expect(keeper.threaded).toBe(where === 'thread');
      keeper.hold(claimed);
      await sleep(300);
      if (where === 'thread') {
        // The loop is blocked for 2.5 leases: only the thread can renew (as for a CPU-bound handler),
        // and it knows no list of runs: it renews what the worker owns.
        const until = Date.now() + 2.5 * LEASE_MS;
        while (Date.now() < until);
      } else {
        await sleep(2.5 * LEASE_MS);
      }
      // Past two leases: nothing to reap, every lease still ahead.
      expect((await store.reap(3, 'lost')).requeued).toEqual([]);
      for (const job of claimed) expect((await store.find(job.jobId))!.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now());

      await runner.stop(stopped.jobId);
      await waitFor(() => lost.some((r) => r.jobId === stopped.jobId && r.fence === stopped.fence), { timeoutMs: 3000, description: 'the stopped run is reported' });
      expect(lost.filter((r) => r.jobId === kept.jobId)).toEqual([]);

      keeper.release(released);
      const requeued = await waitFor(async () => {
        const { requeued } = await store.reap(3, 'lost');
        return requeued.length ? requeued : null;
      }, { timeoutMs: 5000, description: 'the released run is reaped' });
      expect(requeued.map((j) => j.jobId)).toEqual([released.jobId]);
      expect((await store.find(kept.jobId))!.status).toBe(JobStatus.Running);
    } finally {
      await keeper.stop();
    }
    expect(keeper.threaded).toBe(false);
  }, 20_000);
});
