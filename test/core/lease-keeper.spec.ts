/**
 * The lease keeper (lib/worker/lease-keeper.ts) against a real database: held runs keep their lease
 * past `leaseMs` — renewed by the event loop, and by the thread while the loop is blocked (a
 * CPU-bound handler) — a run stopped elsewhere is reported, a released run is no longer renewed,
 * and `stop()` ends the thread. Without `leaseRenewal` (no thread) the loop alone renews.
 * On SQLite the thread also checkpoints the write-ahead log, so the loop's commits never do.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, type INestApplication } from '@nestjs/common';
import { JobRunnerService, JobStatus } from '../../lib/index.js';
import { JOB_STORE } from '../../lib/managed-jobs.constants.js';
import type { JobStore, RunRef } from '../../lib/store/job-store.interface.js';
import { LeaseKeeper } from '../../lib/worker/lease-keeper.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type Dialect, type TestDatabase, type TestTypeOrmOptions } from '../support/databases.js';
import { LongJob, Probe } from '../fixtures/jobs.js';

const LEASE_MS = 1000;
const WORKER = 'keeper-test';

/** A fresh database and an app without a worker (the test runs the keeper itself) around each test. */
function appPerTest(dialect: Dialect) {
  const t = {} as { db: TestDatabase; app: INestApplication; store: JobStore };
  beforeEach(async () => {
    t.db = await createTestDatabase(dialect);
    t.app = await createTestApp(t.db, { providers: [Probe, LongJob], options: { worker: { enabled: false } } });
    t.store = t.app.get(JOB_STORE);
  });
  afterEach(async () => {
    await t.app.close();
    await t.db.drop();
  });
  return t;
}

describe.each(dialects)('the lease keeper on %s', (dialect) => {
  const t = appPerTest(dialect);

  it.each(['thread', 'event loop'] as const)('renews held runs (%s), reports a stopped one, drops a released one', async (where) => {
    const { app, store } = t;
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
      // Wait for the first renewal: the thread loads its driver and connects first, which took over a
      // second on a loaded CI machine (MariaDB), longer than the 300 ms this waited before.
      const leaseOf = async () => (await store.find(kept.jobId))!.leaseExpiresAt!.getTime();
      const claimedLease = await leaseOf();
      await waitFor(async () => ((await leaseOf()) > claimedLease ? true : null), { timeoutMs: 10_000, description: 'the first renewal' });
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

describe('the lease keeper thread on sqlite', () => {
  const t = appPerTest('sqlite');

  it('checkpoints the write-ahead log while it runs, and hands the checkpoints back to the loop when it stops', async () => {
    const { app, store, db } = t;
    const handOvers: boolean[] = [];
    // The store's own target, watched: when the thread takes the checkpoints over and gives them back.
    const watched = Object.create(store, {
      leaseRenewal: {
        value: (workerId: string, leaseMs: number) => {
          const target = store.leaseRenewal!(workerId, leaseMs);
          const duty = target.walCheckpoint!;
          return { ...target, walCheckpoint: { everyMs: duty.everyMs, onThread: (taken: boolean) => (handOvers.push(taken), duty.onThread(taken)) } };
        },
      },
    }) as JobStore;
    const keeper = new LeaseKeeper({ store: watched, logger: new Logger('test'), workerId: WORKER, leaseMs: LEASE_MS, intervalMs: 100, onLost: () => undefined });
    keeper.start();
    try {
      await waitFor(() => handOvers.length > 0, { timeoutMs: 5000, description: 'the thread took the checkpoints over' });
      expect(handOvers).toEqual([true]);
      // 3,000 commits of a few pages each: about 45 MB of log if nobody checkpointed it (the
      // loop's connection no longer does); the thread's checkpoints let each commit start over.
      const runner = app.get(JobRunnerService);
      for (let i = 0; i < 3000; i++) {
        await runner.dispatch(LongJob, {});
        if (i % 500 === 499) await sleep(300); // a checkpoint's turn
      }
      await sleep(400);
      const wal = fs.statSync(`${(db.typeorm as TestTypeOrmOptions & { database: string }).database}-wal`).size;
      expect(wal).toBeLessThan(24 * 1024 * 1024);
    } finally {
      await keeper.stop();
    }
    expect(handOvers).toEqual([true, false]);
  }, 30_000);
});
