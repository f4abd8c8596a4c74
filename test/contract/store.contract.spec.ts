/**
 * The store contract (Oban's `engine_test` idea): every dialect's store, built by the factory on
 * a real database with the shipped migrations, must pass this suite unchanged. It speaks to the
 * store through `JobStore` only, and reads what the store wrote through TypeORM.
 */
import { JobStatus } from '../../lib/enums/job-status.enum.js';
import type { JobStore } from '../../lib/store/job-store.interface.js';
import { decodeWake } from '../../lib/store/wake-message.js';
import { waitFor } from '../support/databases.js';
import { OperatorStore } from '../../lib/operator/operator.store.js';
import { storeFixtures, type StoreUnderTest } from './store-fixture.js';
import {
  claimOf,
  completionOf,
  addLogLine,
  countRows,
  failureOf,
  ledgerOf,
  ledgerSummary,
  newFile,
  newJob,
  runOf,
  secondsFromNow,
  sleep,
  wipe,
} from './store-helpers.js';

describe.each(storeFixtures)('store contract on $name', (fixture) => {
  let ds: StoreUnderTest['dataSource'];
  let store: JobStore;

  beforeAll(() => fixture.setUp());
  afterAll(() => fixture.tearDown());

  beforeEach(async () => {
    ({ dataSource: ds, store } = await fixture.openStore());
    await wipe(ds);
  });

  afterEach(() => fixture.closeStores());

  /** Insert one job and claim it; returns the claimed job. */
  async function claimed(overrides: Parameters<typeof newJob>[0] = {}, claim: Parameters<typeof claimOf>[0] = {}) {
    const [job] = await store.insert([newJob(overrides)]);
    const [run] = await store.claim(claimOf({ queue: job.queue, types: [job.type], limit: 1, ...claim }));
    expect(run.jobId).toBe(job.jobId);
    return run;
  }

  /** A run whose lease has run out (claimed with a 1 ms lease). */
  async function expired(overrides: Parameters<typeof newJob>[0] = {}, workerId = 'worker-a') {
    const run = await claimed(overrides, { leaseMs: 1, workerId });
    await sleep(30);
    return run;
  }

  describe('insert', () => {
    it('returns pending records as inserted, with the database’s times', async () => {
      const before = Date.now();
      const jobs = await store.insert([newJob({ priority: 4, ownerUserId: 'u1', ownerTenantId: 't1' }), newJob({ type: 'other', delayMs: 60_000 })]);
      expect(jobs.map((j) => [j.status, j.attempts, j.fence])).toEqual([
        ['pending', 0, 0],
        ['pending', 0, 0],
      ]);
      expect(jobs[0]).toMatchObject({ priority: 4, ownerUserId: 'u1', ownerTenantId: 't1', payload: { n: 1 } });
      expect(Math.abs(jobs[0].createdAt.getTime() - before)).toBeLessThan(10_000);
      expect(secondsFromNow(jobs[1].availableAt)).toBeGreaterThan(50);
      const found = await store.find(jobs[0].jobId);
      expect(found).toMatchObject({ jobId: jobs[0].jobId, status: JobStatus.Pending, priority: 4, payload: { n: 1 } });
      expect(found!.createdAt.getTime()).toBe(jobs[0].createdAt.getTime());
    });

    it('through an EntityManager, belongs to the caller’s transaction: a rollback leaves nothing', async () => {
      const job = newJob();
      await expect(
        ds.transaction(async (manager) => {
          await store.insert([job, newJob()], manager);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await store.find(job.jobId)).toBeNull();
      expect(await store.claim(claimOf())).toEqual([]);
      expect((await countRows(ds)).jobs).toBe(0);
    });

    it('through an EntityManager, is visible to the store once the transaction commits', async () => {
      const job = newJob();
      await ds.transaction((manager) => store.insert([job], manager));
      expect(await store.find(job.jobId)).toMatchObject({ status: JobStatus.Pending });
      expect((await store.claim(claimOf())).map((j) => j.jobId)).toEqual([job.jobId]);
    });
  });

  describe('claim', () => {
    it('takes the highest priority first, then the oldest, up to the limit', async () => {
      const jobs = await store.insert([0, 5, 0, 10, 5].map((priority) => newJob({ priority })));
      const ids = (i: number[]) => i.map((n) => jobs[n].jobId);
      const first = await store.claim(claimOf({ limit: 2 }));
      expect(first.map((j) => j.jobId)).toEqual(ids([3, 1]));
      const rest = await store.claim(claimOf({ limit: 10 }));
      expect(rest.map((j) => j.jobId)).toEqual(ids([4, 0, 2]));
      expect(await store.claim(claimOf())).toEqual([]);
    });

    it('marks the run: running, a new fence and attempt, the worker’s lease', async () => {
      const [job] = await store.insert([newJob()]);
      const [run] = await store.claim(claimOf({ workerId: 'worker-x', leaseMs: 30_000 }));
      expect(run).toMatchObject({ jobId: job.jobId, status: JobStatus.Running, attempts: 1, fence: 1, leaseOwner: 'worker-x' });
      expect(secondsFromNow(run.leaseExpiresAt)).toBeGreaterThan(20);
      expect(secondsFromNow(run.leaseExpiresAt)).toBeLessThan(40);
      expect(run.startedAt).toBeInstanceOf(Date);
      expect(await store.find(job.jobId)).toMatchObject({ status: JobStatus.Running, fence: 1, leaseOwner: 'worker-x' });
    });

    it('leaves jobs that are not due yet (available_at in the future)', async () => {
      const [delayed, scheduled, due, past] = await store.insert([
        newJob({ delayMs: 60_000 }),
        newJob({ availableAt: new Date(Date.now() + 60_000) }),
        newJob(),
        newJob({ availableAt: new Date(Date.now() - 60_000) }),
      ]);
      const taken = await store.claim(claimOf());
      expect(taken.map((j) => j.jobId).sort()).toEqual([due.jobId, past.jobId].sort());
      expect((await store.find(delayed.jobId))!.status).toBe(JobStatus.Pending);
      expect((await store.find(scheduled.jobId))!.status).toBe(JobStatus.Pending);
    });

    it('a short delay becomes due', async () => {
      const [job] = await store.insert([newJob({ delayMs: 150 })]);
      expect(await store.claim(claimOf())).toEqual([]);
      await sleep(250);
      expect((await store.claim(claimOf())).map((j) => j.jobId)).toEqual([job.jobId]);
    });

    it('takes only its queue, and only the given types', async () => {
      const [a1, a2, b1] = await store.insert([
        newJob({ queue: 'a', type: 't1' }),
        newJob({ queue: 'a', type: 't2' }),
        newJob({ queue: 'b', type: 't1' }),
      ]);
      expect((await store.claim(claimOf({ queue: 'a', types: ['t1'] }))).map((j) => j.jobId)).toEqual([a1.jobId]);
      expect(await store.claim(claimOf({ queue: 'a', types: ['t3'] }))).toEqual([]);
      expect((await store.claim(claimOf({ queue: 'a', types: ['t1', 't2'] }))).map((j) => j.jobId)).toEqual([a2.jobId]);
      expect((await store.claim(claimOf({ queue: 'b', types: ['t1', 't2'] }))).map((j) => j.jobId)).toEqual([b1.jobId]);
    });

    it('gives a job to one claimer only when claims race', async () => {
      await store.insert(Array.from({ length: 20 }, () => newJob()));
      const { store: other } = await fixture.openStore();
      const claims = await Promise.all([
        ...Array.from({ length: 4 }, (_, i) => store.claim(claimOf({ limit: 3, workerId: `a${i}` }))),
        ...Array.from({ length: 4 }, (_, i) => other.claim(claimOf({ limit: 3, workerId: `b${i}` }))),
      ]);
      const ids = claims.flat().map((j) => j.jobId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeLessThanOrEqual(20);
    });
  });

  describe('paused queues (managed_job_queues, written by the operator)', () => {
    it('claim nothing from a paused queue, by claim or complete-and-claim, until it is resumed; other queues are unaffected', async () => {
      const switches = new OperatorStore(ds);
      const [held] = await store.insert([newJob({ queue: 'p' })]);
      const [other] = await store.insert([newJob({ queue: 'q', priority: 5 })]);
      await switches.write(switches.sql.setPaused('p', true));
      expect(await store.claim(claimOf({ queue: 'p' }))).toEqual([]);
      const [run] = await store.claim(claimOf({ queue: 'q' }));
      expect(run.jobId).toBe(other.jobId);
      const { completed, claimed: taken } = await store.completeAndClaim([completionOf(run)], claimOf({ queue: 'p' }));
      expect(completed.map((c) => c.jobId)).toEqual([run.jobId]);
      expect(taken).toEqual([]);
      expect((await store.find(held.jobId))!.status).toBe(JobStatus.Pending);
      await switches.write(switches.sql.setPaused('p', false));
      expect((await store.claim(claimOf({ queue: 'p' }))).map((j) => j.jobId)).toEqual([held.jobId]);
    });
  });

  describe('the fence: a write naming a stale run changes nothing', () => {
    /** The job's run 1 was lost and re-queued, and run 2 (worker-b) holds it now: `stale` is run 1. */
    async function staleRun() {
      const first = await expired({}, 'worker-a');
      expect((await store.reap(3, 'lost')).requeued.map((j) => j.jobId)).toEqual([first.jobId]);
      const [current] = await store.claim(claimOf({ workerId: 'worker-b' }));
      expect(current.fence).toBe(first.fence + 1);
      const before = await store.find(first.jobId);
      const ledgerBefore = await ledgerOf(ds, first.jobId);
      return { stale: runOf(first), current, before, ledgerBefore };
    }

    const writes: Array<[string, (store: JobStore, stale: { jobId: string; fence: number }) => Promise<unknown>, unknown]> = [
      ['complete', (s, r) => s.complete([completionOf(r)], 'worker-a'), []],
      ['completeAndClaim', async (s, r) => (await s.completeAndClaim([completionOf(r)], claimOf({ workerId: 'worker-a' }))).completed, []],
      ['fail', (s, r) => s.fail(failureOf(r), 'worker-a'), null],
      ['fail with a retry', (s, r) => s.fail(failureOf(r, { retryInSeconds: 0 }), 'worker-a'), null],
      ['release', (s, r) => s.release([r], 'worker-a'), []],
      ['updateProgress', (s, r) => s.updateProgress(r, 50, 'zombie'), null],
      ['saveState', (s, r) => s.saveState(r, '{"zombie":true}'), false],
      ['saveStep', (s, r) => s.saveStep(r, 'step', '1'), false],
      ['addFile', (s, r) => s.addFile(r, newFile(r.jobId)), null],
      ['renewLeases', (s, r) => s.renewLeases([r], 'worker-a', 60_000), []],
    ];

    it.each(writes)('%s', async (_name, write, refused) => {
      const { stale, before, ledgerBefore } = await staleRun();
      await expect(write(store, stale)).resolves.toEqual(refused);
      const after = await store.find(stale.jobId);
      expect(after).toEqual(before);
      expect(await ledgerOf(ds, stale.jobId)).toEqual(ledgerBefore);
      expect(await store.loadSteps(stale.jobId)).toEqual(new Map());
      expect(await store.listFiles(stale.jobId, true)).toEqual([]);
    });
  });

  describe('writes of a live run', () => {
    it('progress, state and steps (a step is recorded once)', async () => {
      const run = await claimed();
      expect(await store.updateProgress(runOf(run), 42, 'almost')).toMatchObject({ progressPercentage: 42, progressMessage: 'almost' });
      expect(await store.saveState(runOf(run), '{"cursor":7}')).toBe(true);
      expect(await store.saveStep(runOf(run), 'fetch', '{"rows":3}')).toBe(true);
      expect(await store.saveStep(runOf(run), 'fetch', '{"rows":99}')).toBe(false);
      expect(await store.saveStep(runOf(run), 'empty', null)).toBe(true);
      expect(await store.find(run.jobId)).toMatchObject({ progressPercentage: 42, progressMessage: 'almost', state: { cursor: 7 } });
      expect(await store.loadSteps(run.jobId)).toEqual(
        new Map<string, unknown>([
          ['fetch', { rows: 3 }],
          ['empty', null],
        ]),
      );
    });
  });

  describe('lease renewal', () => {
    it('extends the leases this worker still owns, and returns only those', async () => {
      await store.insert([newJob(), newJob(), newJob()]);
      const mine = await store.claim(claimOf({ limit: 2, workerId: 'worker-a', leaseMs: 10_000 }));
      const [theirs] = await store.claim(claimOf({ limit: 1, workerId: 'worker-b' }));
      const stopped = mine[1];
      await store.stop(stopped.jobId);
      const renewed = await store.renewLeases([...mine.map(runOf), runOf(theirs), { jobId: mine[0].jobId, fence: mine[0].fence + 1 }], 'worker-a', 120_000);
      expect(renewed).toEqual([runOf(mine[0])]);
      expect(secondsFromNow((await store.find(mine[0].jobId))!.leaseExpiresAt)).toBeGreaterThan(100);
      // Not theirs to renew: worker-b's lease is as it was.
      expect((await store.find(theirs.jobId))!.leaseExpiresAt!.getTime()).toBe(theirs.leaseExpiresAt!.getTime());
    });

    it('keeps a renewed run from being reaped', async () => {
      const run = await claimed({}, { leaseMs: 1 });
      expect(await store.renewLeases([runOf(run)], 'worker-a', 60_000)).toEqual([runOf(run)]);
      await sleep(30);
      expect(await store.reap(3, 'lost')).toEqual({ requeued: [], failed: [] });
    });
  });

  describe('completion', () => {
    it('records the result and one completed ledger row; a second completion of the run does nothing', async () => {
      const run = await claimed();
      const [done] = await store.complete([completionOf(run, 'a string result')], 'worker-a');
      expect(done.jobId).toBe(run.jobId);
      expect(done.finishedAt).toBeInstanceOf(Date);
      const job = await store.find(run.jobId);
      expect(job).toMatchObject({ status: JobStatus.Completed, result: 'a string result', progressPercentage: 100, progressMessage: 'done', leaseOwner: null, leaseExpiresAt: null });
      expect(job!.finishedAt!.getTime()).toBe(done.finishedAt.getTime());
      expect(await store.complete([completionOf(run)], 'worker-a')).toEqual([]);
      expect(ledgerSummary(await ledgerOf(ds, run.jobId))).toEqual([{ fence: 1, attempt: 1, outcome: 'completed', workerId: 'worker-a', error: null }]);
    });

    it('completes many runs at once', async () => {
      await store.insert([newJob(), newJob(), newJob()]);
      const runs = await store.claim(claimOf());
      const done = await store.complete(runs.map((r, i) => completionOf(r, i)), 'worker-a');
      expect(done.map((d) => d.jobId).sort()).toEqual(runs.map((r) => r.jobId).sort());
      for (const [i, r] of runs.entries()) expect(await store.find(r.jobId)).toMatchObject({ status: JobStatus.Completed, result: i });
    });

    it('complete-and-claim records the completions and claims the next jobs, in claim order', async () => {
      const [first] = await store.insert([newJob({ priority: 9 })]);
      const [run] = await store.claim(claimOf());
      expect(run.jobId).toBe(first.jobId);
      const next = await store.insert([newJob(), newJob({ priority: 3 }), newJob({ queue: 'elsewhere' })]);
      const { completed, claimed: taken } = await store.completeAndClaim([completionOf(run, 'r')], claimOf({ workerId: 'worker-a', limit: 5 }));
      expect(completed.map((c) => c.jobId)).toEqual([run.jobId]);
      expect(taken.map((j) => j.jobId)).toEqual([next[1].jobId, next[0].jobId]);
      expect(taken.every((j) => j.status === JobStatus.Running && j.leaseOwner === 'worker-a')).toBe(true);
      expect(await store.find(run.jobId)).toMatchObject({ status: JobStatus.Completed, result: 'r' });
      expect(ledgerSummary(await ledgerOf(ds, run.jobId))).toEqual([{ fence: 1, attempt: 1, outcome: 'completed', workerId: 'worker-a', error: null }]);
    });

    it('complete-and-claim with nothing to complete is a claim, with nothing due a completion', async () => {
      const [job] = await store.insert([newJob()]);
      expect(await store.completeAndClaim([], claimOf())).toEqual({ completed: [], claimed: [expect.objectContaining({ jobId: job.jobId })] });
      const { completed, claimed: none } = await store.completeAndClaim([completionOf({ jobId: job.jobId, fence: 1 })], claimOf());
      expect(completed.map((c) => c.jobId)).toEqual([job.jobId]);
      expect(none).toEqual([]);
    });
  });

  describe('failure', () => {
    it('with a retry: back to pending after the backoff, the try used, ledger `retrying`', async () => {
      const run = await claimed();
      const failed = await store.fail(failureOf(run, { retryInSeconds: 30 }), 'worker-a');
      expect(failed).toMatchObject({ status: JobStatus.Pending, attempts: 1, failedReason: 'boom', progressPercentage: 40, leaseOwner: null, finishedAt: null });
      expect(secondsFromNow(failed!.availableAt)).toBeGreaterThan(20);
      expect(secondsFromNow(failed!.availableAt)).toBeLessThan(40);
      expect(await store.claim(claimOf())).toEqual([]);
      expect(ledgerSummary(await ledgerOf(ds, run.jobId))).toEqual([{ fence: 1, attempt: 1, outcome: 'retrying', workerId: 'worker-a', error: 'boom' }]);
    });

    it('then the retry runs as the next attempt, and its final failure fails the job', async () => {
      const run = await claimed();
      await store.fail(failureOf(run, { retryInSeconds: 0 }), 'worker-a');
      const [again] = await store.claim(claimOf({ workerId: 'worker-b' }));
      expect(again).toMatchObject({ jobId: run.jobId, attempts: 2, fence: 2 });
      const failed = await store.fail(failureOf(again, { reason: 'for good' }), 'worker-b');
      expect(failed).toMatchObject({ status: JobStatus.Failed, attempts: 2, failedReason: 'for good' });
      expect(failed!.finishedAt).toBeInstanceOf(Date);
      expect(ledgerSummary(await ledgerOf(ds, run.jobId))).toEqual([
        { fence: 1, attempt: 1, outcome: 'retrying', workerId: 'worker-a', error: 'boom' },
        { fence: 2, attempt: 2, outcome: 'failed', workerId: 'worker-b', error: 'for good' },
      ]);
    });

    it('a timeout is recorded as `timeout`, retried or not', async () => {
      const run = await claimed();
      await store.fail(failureOf(run, { outcome: 'timeout', reason: 'too slow', retryInSeconds: 0 }), 'worker-a');
      const [again] = await store.claim(claimOf());
      expect(await store.fail(failureOf(again, { outcome: 'timeout', reason: 'too slow' }), 'worker-a')).toMatchObject({ status: JobStatus.Failed });
      expect((await ledgerOf(ds, run.jobId)).map((r) => r.outcome)).toEqual(['timeout', 'timeout']);
    });
  });

  describe('release (shutdown hand-back)', () => {
    it('puts the job back due now without using up a try; the ledger row keeps the run’s attempt', async () => {
      const run = await claimed();
      const released = await store.release([runOf(run)], 'worker-a');
      expect(released.map((j) => [j.jobId, j.status, j.attempts, j.leaseOwner])).toEqual([[run.jobId, JobStatus.Pending, 0, null]]);
      expect(ledgerSummary(await ledgerOf(ds, run.jobId))).toEqual([{ fence: 1, attempt: 1, outcome: 'released', workerId: 'worker-a', error: null }]);
      const [again] = await store.claim(claimOf());
      expect(again).toMatchObject({ jobId: run.jobId, attempts: 1, fence: 2 });
    });
  });

  describe('run control (retryUntil, stoppable, release with a delay, disableStop, the error text)', () => {
    it('stores retry_until and stoppable as inserted, uniform and mixed batches alike, and claims them back', async () => {
      const until = new Date(Date.now() + 3_600_000);
      const [a, b] = await store.insert([newJob({ retryUntil: until, stoppable: false }), newJob({ retryUntil: until, stoppable: false })]);
      const [c] = await store.insert([newJob({ retryUntil: null }), newJob({ retryUntil: until, stoppable: false, type: 'other' })]);
      for (const job of [a, b]) expect([job.retryUntil?.getTime(), job.stoppable]).toEqual([until.getTime(), false]);
      const found = await store.find(a.jobId);
      expect([found!.retryUntil?.getTime(), found!.stoppable]).toEqual([until.getTime(), false]);
      expect([(await store.find(c.jobId))!.retryUntil, (await store.find(c.jobId))!.stoppable]).toEqual([null, true]);
      const claimedRows = await store.claim(claimOf({ types: ['contract', 'other'] }));
      expect(claimedRows.find((j) => j.jobId === a.jobId)).toMatchObject({ stoppable: false, retryUntil: until });
      const [next] = await store.insert([newJob({ retryUntil: until })]);
      const { claimed: busy } = await store.completeAndClaim([completionOf(claimedRows[0])], claimOf());
      expect(busy.find((j) => j.jobId === next.jobId)?.retryUntil?.getTime()).toBe(until.getTime());
    });

    it('retry() sets a new retryUntil moment when given one, and keeps the stored one when not', async () => {
      const first = new Date(Date.now() + 60_000);
      const run = await claimed({ retryUntil: first });
      await store.fail(failureOf(run), 'worker-a');
      expect((await store.retry(run.jobId, 1))!.retryUntil?.getTime()).toBe(first.getTime());
      const [again] = await store.claim(claimOf());
      await store.fail(failureOf(again), 'worker-a');
      const later = new Date(Date.now() + 120_000);
      expect((await store.retry(run.jobId, 1, undefined, later))!.retryUntil?.getTime()).toBe(later.getTime());
      expect((await store.find(run.jobId))!.retryUntil?.getTime()).toBe(later.getTime());
    });

    it('keeps the failure’s error text (message and stack) in the ledger, the message as failed_reason', async () => {
      const run = await claimed();
      const failed = await store.fail(failureOf(run, { reason: 'boom', error: 'Error: boom\n    at handle (job.ts:1:1)' }), 'worker-a');
      expect(failed!.failedReason).toBe('boom');
      expect(ledgerSummary(await ledgerOf(ds, run.jobId))[0].error).toBe('Error: boom\n    at handle (job.ts:1:1)');
    });

    it('releases a run due later, fenced to the run, without using up a try', async () => {
      const run = await claimed();
      expect(await store.release([{ jobId: run.jobId, fence: run.fence + 1 }], 'worker-a', 60_000)).toEqual([]);
      const [released] = await store.release([runOf(run)], 'worker-a', 60_000);
      expect([released.status, released.attempts]).toEqual([JobStatus.Pending, 0]);
      expect(secondsFromNow(released.availableAt)).toBeGreaterThan(50);
      expect(await store.claim(claimOf())).toEqual([]);
      expect(ledgerSummary(await ledgerOf(ds, run.jobId)).map((r) => [r.attempt, r.outcome])).toEqual([[1, 'released']]);
    });

    it('refuses to stop a job declared unstoppable, pending or running', async () => {
      const [pending] = await store.insert([newJob({ stoppable: false })]);
      expect(await store.stop(pending.jobId)).toBeNull();
      const [run] = await store.claim(claimOf());
      expect(await store.stop(run.jobId)).toBeNull();
      expect((await store.find(run.jobId))!.status).toBe(JobStatus.Running);
    });

    it('disableStop holds for that run only; a stop that came first wins', async () => {
      const run = await claimed();
      expect(await store.disableStop({ jobId: run.jobId, fence: run.fence + 1 })).toBe(false);
      expect(await store.disableStop(runOf(run))).toBe(true);
      expect(await store.stop(run.jobId)).toBeNull();
      // The run fails and the job waits for its next try: stoppable again, and the next run too.
      await store.fail(failureOf(run, { retryInSeconds: 0 }), 'worker-a');
      const [next] = await store.claim(claimOf());
      expect(next.fence).toBe(run.fence + 1);
      expect((await store.stop(next.jobId))!.status).toBe(JobStatus.Stopped);
      // Stopped first: disableStop finds the run gone.
      const other = await claimed();
      await store.stop(other.jobId);
      expect(await store.disableStop(runOf(other))).toBe(false);
    });
  });

  describe('reaping runs whose lease ran out', () => {
    it('re-queues an idempotent job, gives the try back, and is idempotent itself', async () => {
      const run = await expired({ idempotent: true }, 'worker-dead');
      const { requeued, failed } = await store.reap(3, 'lost by {worker}');
      expect(failed).toEqual([]);
      expect(requeued.map((j) => [j.jobId, j.status, j.attempts, j.leaseOwner])).toEqual([[run.jobId, JobStatus.Pending, 0, null]]);
      expect(await store.reap(3, 'lost by {worker}')).toEqual({ requeued: [], failed: [] });
      expect(ledgerSummary(await ledgerOf(ds, run.jobId))).toEqual([{ fence: 1, attempt: 1, outcome: 'lost', workerId: 'worker-dead', error: null }]);
      expect((await store.claim(claimOf())).map((j) => j.jobId)).toEqual([run.jobId]);
    });

    it('fails a non-idempotent job with the given reason, the lost worker kept in the ledger only', async () => {
      const run = await expired({ idempotent: false }, 'worker-dead');
      const { requeued, failed } = await store.reap(3, 'lost {worker}');
      expect(requeued).toEqual([]);
      // The reason is the owner's to read: taken as given, never filled with the worker's id.
      expect(failed.map((j) => [j.jobId, j.status, j.failedReason])).toEqual([[run.jobId, JobStatus.Failed, 'lost {worker}']]);
      expect(failed[0].finishedAt).toBeInstanceOf(Date);
      expect((await ledgerOf(ds, run.jobId)).map((r) => [r.outcome, r.workerId])).toEqual([['lost', 'worker-dead']]);
    });

    it('fails an idempotent job lost `maxLostRuns` times (a job that kills its worker does not loop)', async () => {
      const run = await expired({ idempotent: true });
      expect((await store.reap(2, 'lost')).requeued).toHaveLength(1);
      await store.claim(claimOf({ leaseMs: 1 }));
      await sleep(30);
      const second = await store.reap(2, 'lost');
      expect(second.requeued).toEqual([]);
      expect(second.failed.map((j) => j.jobId)).toEqual([run.jobId]);
      expect(ledgerSummary(await ledgerOf(ds, run.jobId)).map((r) => [r.fence, r.attempt, r.outcome])).toEqual([
        [1, 1, 'lost'],
        [2, 1, 'lost'],
      ]);
    });

    it('leaves runs whose lease is still valid', async () => {
      await claimed();
      expect(await store.reap(3, 'lost')).toEqual({ requeued: [], failed: [] });
    });
  });

  describe('the ledger', () => {
    it('has one row per ended run, with its outcome and attempt', async () => {
      const run = await claimed();
      await store.fail(failureOf(run, { retryInSeconds: 0 }), 'worker-a');
      const [second] = await store.claim(claimOf());
      await store.release([runOf(second)], 'worker-a');
      const [third] = await store.claim(claimOf({ workerId: 'worker-b' }));
      await store.complete([completionOf(third)], 'worker-b');
      const rows = await ledgerOf(ds, run.jobId);
      expect(ledgerSummary(rows)).toEqual([
        { fence: 1, attempt: 1, outcome: 'retrying', workerId: 'worker-a', error: 'boom' },
        { fence: 2, attempt: 2, outcome: 'released', workerId: 'worker-a', error: null },
        { fence: 3, attempt: 2, outcome: 'completed', workerId: 'worker-b', error: null },
      ]);
      for (const row of rows) expect(row.finishedAt.getTime()).toBeGreaterThanOrEqual(row.startedAt.getTime());
    });
  });

  describe('stop and retry', () => {
    it('stops a pending job (no run, no ledger row) and a running one (ledger `stopped` for its worker)', async () => {
      const [pending] = await store.insert([newJob({ queue: 'idle' })]);
      expect(await store.stop(pending.jobId)).toMatchObject({ status: JobStatus.Stopped });
      const run = await claimed({}, { workerId: 'worker-r' });
      const stopped = await store.stop(run.jobId);
      expect(stopped).toMatchObject({ status: JobStatus.Stopped, leaseOwner: null });
      expect(stopped!.finishedAt).toBeInstanceOf(Date);
      expect(await ledgerOf(ds, pending.jobId)).toEqual([]);
      expect(ledgerSummary(await ledgerOf(ds, run.jobId))).toEqual([{ fence: 1, attempt: 1, outcome: 'stopped', workerId: 'worker-r', error: null }]);
      expect(await store.stop(run.jobId)).toBeNull();
      // The stopped run's late completion is fenced out.
      expect(await store.complete([completionOf(run)], 'worker-r')).toEqual([]);
    });

    it('stops and retries only within the scope', async () => {
      const [job] = await store.insert([newJob({ ownerUserId: 'u1', ownerTenantId: 't1' })]);
      for (const scope of [
        { ownerUserId: 'u2', ownerTenantId: null },
        { ownerUserId: null, ownerTenantId: 't2' },
        { ownerUserId: 'u1', ownerTenantId: 't2' },
        // The owner pair: u1 without a tenant is not (u1, t1).
        { ownerUserId: 'u1', ownerTenantId: null },
      ] as const) {
        expect(await store.find(job.jobId, scope)).toBeNull();
        expect(await store.stop(job.jobId, scope)).toBeNull();
      }
      expect((await store.find(job.jobId))!.status).toBe(JobStatus.Pending);
      expect(await store.stop(job.jobId, { ownerUserId: 'u1', ownerTenantId: 't1' })).toMatchObject({ status: JobStatus.Stopped });
      expect(await store.retry(job.jobId, 2, { ownerUserId: 'u2', ownerTenantId: null })).toBeNull();
      expect((await store.find(job.jobId))!.status).toBe(JobStatus.Stopped);
      expect(await store.retry(job.jobId, 2, { ownerUserId: null, ownerTenantId: 't1' })).toMatchObject({ status: JobStatus.Pending });
    });

    it('retries a failed job with a fresh set of tries, due now; a pending job is not retryable', async () => {
      const run = await claimed({ maxAttempts: 1 });
      await store.fail(failureOf(run), 'worker-a');
      const retried = await store.retry(run.jobId, 2);
      expect(retried).toMatchObject({ status: JobStatus.Pending, attempts: 0, maxAttempts: 2, failedReason: null, result: null, finishedAt: null, progressPercentage: 0 });
      expect(await store.retry(run.jobId, 2)).toBeNull();
      // The next run is attempt 1 of 2 again; its fence still moves on (the ledger keeps both runs apart).
      expect((await store.claim(claimOf())).map((j) => [j.jobId, j.attempts, j.fence])).toEqual([[run.jobId, 1, run.fence + 1]]);
    });
  });

  describe('find and list', () => {
    it('lists newest first with a total, filtered by status, type and scope', async () => {
      const jobs = await store.insert([
        newJob({ ownerUserId: 'u1' }),
        newJob({ ownerUserId: 'u1', type: 'other' }),
        newJob({ ownerUserId: 'u2', ownerTenantId: 't' }),
      ]);
      await store.stop(jobs[0].jobId);
      const all = await store.list({ offset: 0, limit: 10 });
      expect(all.total).toBe(3);
      expect(all.rows.map((j) => j.jobId)).toEqual([...jobs].reverse().map((j) => j.jobId));
      expect((await store.list({ offset: 1, limit: 1 })).rows.map((j) => j.jobId)).toEqual([jobs[1].jobId]);
      // A user scope is the owner pair: u1 without a tenant; a tenant scope is the whole tenant.
      expect((await store.list({ offset: 0, limit: 10, scope: { ownerUserId: 'u1', ownerTenantId: null } })).total).toBe(2);
      expect((await store.list({ offset: 0, limit: 10, scope: { ownerUserId: 'u2', ownerTenantId: null } })).total).toBe(0);
      expect((await store.list({ offset: 0, limit: 10, scope: { ownerUserId: null, ownerTenantId: 't' } })).rows.map((j) => j.jobId)).toEqual([jobs[2].jobId]);
      expect((await store.list({ offset: 0, limit: 10, anyTenantOfUser: 'u2' })).rows.map((j) => j.jobId)).toEqual([jobs[2].jobId]);
      expect((await store.list({ offset: 0, limit: 10, statuses: [JobStatus.Stopped] })).rows.map((j) => j.jobId)).toEqual([jobs[0].jobId]);
      expect((await store.list({ offset: 0, limit: 10, type: 'other' })).rows.map((j) => j.jobId)).toEqual([jobs[1].jobId]);
    });
  });

  describe('files', () => {
    it('records files of a live run, lists and finds them until they expire, and marks them deleted', async () => {
      const run = await claimed();
      const kept = await store.addFile(runOf(run), newFile(run.jobId, { filename: 'kept.csv' }));
      const old = await store.addFile(runOf(run), newFile(run.jobId, { filename: 'old.csv', expiresAt: new Date(Date.now() - 60_000) }));
      expect(kept).toMatchObject({ jobId: run.jobId, filename: 'kept.csv', mimeType: 'text/csv', sizeBytes: '12', deletedAt: null });
      expect(secondsFromNow(kept!.expiresAt) / 86_400).toBeCloseTo(7, 1);
      expect((await store.listFiles(run.jobId)).map((f) => f.filename)).toEqual(['kept.csv']);
      expect((await store.listFiles(run.jobId, true)).map((f) => f.filename).sort()).toEqual(['kept.csv', 'old.csv']);
      expect(await store.findFile(run.jobId, kept!.jobFileId)).toMatchObject({ filename: 'kept.csv' });
      expect(await store.findFile(run.jobId, old!.jobFileId)).toBeNull();
      expect((await store.expiredFiles(10)).map((f) => f.jobFileId)).toEqual([old!.jobFileId]);
      expect((await store.filesOfJobs([run.jobId])).map((f) => f.filename).sort()).toEqual(['kept.csv', 'old.csv']);
      expect(await store.markFilesDeleted([old!.jobFileId])).toBe(1);
      expect(await store.markFilesDeleted([old!.jobFileId])).toBe(0);
      expect(await store.expiredFiles(10)).toEqual([]);
      expect((await store.filesOfJobs([run.jobId])).map((f) => f.filename)).toEqual(['kept.csv']);
      expect(await store.filesOfJobs([])).toEqual([]);
    });
  });

  describe('maintenance', () => {
    it('prunes finished jobs older than the cut-off with their ledger, steps, files and logs; keeps the rest', async () => {
      const run = await claimed();
      await store.saveStep(runOf(run), 'step', '1');
      await addLogLine(ds, run.jobId);
      await store.addFile(runOf(run), newFile(run.jobId));
      await store.complete([completionOf(run)], 'worker-a');
      const [pending] = await store.insert([newJob({ queue: 'later' })]);
      await sleep(20);
      expect(await store.prunableJobs(1, 10)).toEqual([]);
      expect(await store.prunableJobs(0, 10)).toEqual([run.jobId]);
      expect(await store.pruneFinished([run.jobId, pending.jobId], 1)).toBe(0);
      expect(await store.pruneFinished([run.jobId, pending.jobId], 0)).toBe(1);
      expect(await store.find(run.jobId)).toBeNull();
      expect(await store.find(pending.jobId)).not.toBeNull();
      expect(await countRows(ds)).toEqual({ jobs: 1, attempts: 0, steps: 0, files: 0, logs: 0 });
      expect(await store.pruneFinished([], 0)).toBe(0);
    });

    it('keeps a job retried after it was chosen for pruning', async () => {
      const run = await claimed();
      await store.fail(failureOf(run), 'worker-a');
      await sleep(20);
      const chosen = await store.prunableJobs(0, 10);
      expect(chosen).toEqual([run.jobId]);
      await store.retry(run.jobId, 1);
      expect(await store.pruneFinished(chosen, 0)).toBe(0);
      expect(await store.find(run.jobId)).not.toBeNull();
    });
  });

  describe('notifier', () => {
    it('wakes a listener when another process queues jobs', async () => {
      const payloads: string[] = [];
      await store.listen((payload) => payloads.push(payload));
      await sleep(50);
      payloads.length = 0;
      const { store: other } = await fixture.openStore();
      const [job] = await other.insert([newJob({ queue: 'reports' })], undefined, 'other-process');
      const woken = await waitFor(() => payloads.map(decodeWake).find((m) => m.kind === 'dispatched'), { timeoutMs: 5000 });
      // "Any queue" (the dialect can only tell that something was committed) or the queue named.
      if (woken.kind === 'dispatched' && woken.queues.length) {
        expect(woken.queues).toEqual(['reports']);
        expect(woken.origin).toBe('other-process');
      }
      expect(job.queue).toBe('reports');
    });

    it('wakes a listener when another process stops a job', async () => {
      const [job] = await store.insert([newJob()]);
      const payloads: string[] = [];
      await store.listen((payload) => payloads.push(payload));
      await sleep(50);
      payloads.length = 0;
      const { store: other } = await fixture.openStore();
      await other.stop(job.jobId);
      const woken = await waitFor(() => payloads.map(decodeWake)[0], { timeoutMs: 5000 });
      // The stop itself, or "something was committed, any queue".
      expect(woken).toEqual(woken.kind === 'stopRequested' ? { kind: 'stopRequested', jobId: job.jobId } : { kind: 'dispatched', queues: [], origin: '' });
    });

    it('delivers job events to the other processes in order when it can, and says whether anyone listens', async () => {
      const { store: gateway } = await fixture.openStore();
      const received: string[] = [];
      expect(await store.hasEventListeners()).toBe(false);
      await gateway.listenEvents((payload) => received.push(payload));
      const events = Array.from({ length: 50 }, (_, i) => `event ${i} ${'x'.repeat(i * 10)}`);
      await store.publishEvents(events);
      if (store.capabilities.crossProcessEvents) {
        expect(await store.hasEventListeners()).toBe(true);
        // The gateway's own listener is not "another process".
        expect(await gateway.hasEventListeners()).toBe(false);
        await waitFor(() => received.length === events.length, { timeoutMs: 5000 });
        expect(received).toEqual(events);
      } else {
        expect(await store.hasEventListeners()).toBe(false);
        await sleep(100);
        expect(received).toEqual([]);
      }
    });
  });

  describe('cluster lock', () => {
    it('runs a key in one holder at a time across processes, and frees it after (even on error)', async () => {
      const { store: other } = await fixture.openStore();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const first = store.runExclusive('daily', async () => {
        await held;
        return 'first';
      });
      await sleep(50);
      expect(await other.runExclusive('daily', async () => 'second')).toEqual({ acquired: false });
      expect(await store.runExclusive('daily', async () => 'again')).toEqual({ acquired: false });
      expect(await other.runExclusive('hourly', async () => 'other key')).toEqual({ acquired: true, value: 'other key' });
      release();
      expect(await first).toEqual({ acquired: true, value: 'first' });
      await expect(other.runExclusive('daily', async () => Promise.reject(new Error('task failed')))).rejects.toThrow('task failed');
      expect(await store.runExclusive('daily', async () => 'free')).toEqual({ acquired: true, value: 'free' });
    });
  });
});
