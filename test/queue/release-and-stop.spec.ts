import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  JobInterruptedError,
  JobRunnerService,
  JobStateConflictError,
  JobStatus,
  ManagedJob,
  ManagedJobAttemptEntity,
  type JobContext,
} from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { asA, createHttpApp } from '../http/http-app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Releases its first `releases` runs (due again after `delayMs`), then completes. `tries: 1`: releases use none. */
@ManagedJob({ name: 'releasing', tries: 1 })
class ReleasingJob {
  async handle(ctx: JobContext<{ releases: number; delayMs: number; throwAfter?: boolean }>) {
    const done = (ctx.getState()?.released as number | undefined) ?? 0;
    if (done < ctx.payload.releases) {
      await ctx.saveState({ released: done + 1 });
      ctx.release({ delayMs: ctx.payload.delayMs });
      if (ctx.payload.throwAfter) throw new Error('released, then failed');
      return 'ignored: released';
    }
    return { releasedTimes: done };
  }
}

/** Its retryUntil has passed: a release ends it failed. */
@ManagedJob({ name: 'releasing-late', retryUntil: () => new Date(Date.now() - 1) })
class LateReleasingJob {
  handle(ctx: JobContext) {
    ctx.release({ delayMs: 10 });
  }
}

/** Declared unstoppable; runs until told to finish. */
@ManagedJob({ name: 'unstoppable', stoppable: false, http: true })
class UnstoppableJob {
  async handle(ctx: JobContext<{ ms: number }>) {
    await sleep(ctx.payload.ms);
    return 'finished';
  }
}

/**
 * Reaches its point of no return when the test says `go` (see `gates`), and reports which side
 * won: its `disableStop()` or a concurrent `stop()`.
 */
const gates = new Map<string, { ready: () => void; go: Promise<void> }>();
const outcomes = new Map<string, 'disabled' | 'stopped-first'>();

@ManagedJob({ name: 'point-of-no-return', http: true })
class PointOfNoReturnJob {
  async handle(ctx: JobContext<{ key: string }>) {
    const gate = gates.get(ctx.payload.key);
    if (gate) {
      gate.ready();
      await gate.go;
    }
    try {
      await ctx.disableStop();
    } catch (error) {
      if (!(error instanceof JobInterruptedError && error.reason === 'stopped')) throw error;
      outcomes.set(ctx.payload.key, 'stopped-first');
      return 'stopped before the point of no return';
    }
    outcomes.set(ctx.payload.key, 'disabled');
    await sleep(300);
    return 'charged the card';
  }
}

const jobs = [ReleasingJob, LateReleasingJob, UnstoppableJob, PointOfNoReturnJob];

describe.each(dialects)('release and stoppable on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  /** A second process on the same database, web only (no worker): stops come from elsewhere. */
  let web: INestApplication;
  let runner: JobRunnerService;
  let webRunner: JobRunnerService;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: jobs });
    web = await createHttpApp(db, { providers: jobs, migrate: false, options: { worker: { enabled: false } } });
    runner = app.get(JobRunnerService);
    webRunner = web.get(JobRunnerService);
  });

  afterAll(async () => {
    await web?.close();
    await app?.close();
    await db?.drop();
  });

  const until = (jobId: string, statuses: JobStatus[], timeoutMs = 15_000) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && statuses.includes(job.status) ? job : null;
    }, { timeoutMs });
  const ledger = async (jobId: string) =>
    (await app.get(DataSource).getRepository(ManagedJobAttemptEntity).find({ where: { jobId }, order: { fence: 'ASC' } })).map((a) => [a.attempt, a.outcome]);

  describe('ctx.release()', () => {
    it('puts the job back, due after delayMs, without using a try; it runs again and completes', async () => {
      const job = await runner.dispatch(ReleasingJob, { releases: 1, delayMs: 1500 });
      const released = await waitFor(async () => {
        const row = await runner.find(job.jobId);
        return row?.status === JobStatus.Pending && row.fence === 1 ? row : null;
      });
      expect([released.attempts, released.maxAttempts, released.result, released.finishedAt]).toEqual([0, 1, null, null]);
      expect(released.availableAt.getTime() - released.updatedAt.getTime()).toBeGreaterThanOrEqual(1400);
      expect(await ledger(job.jobId)).toEqual([[1, 'released']]);
      const done = await until(job.jobId, [JobStatus.Completed]);
      expect([done.attempts, done.maxAttempts, done.result]).toEqual([1, 1, { releasedTimes: 1 }]);
      expect(done.startedAt!.getTime() - released.updatedAt.getTime()).toBeGreaterThanOrEqual(1400);
      expect(await ledger(job.jobId)).toEqual([
        [1, 'released'],
        [1, 'completed'],
      ]);
    });

    it('can release any number of times on one try', async () => {
      const done = await until((await runner.dispatch(ReleasingJob, { releases: 3, delayMs: 0 })).jobId, [JobStatus.Completed]);
      expect([done.attempts, done.result]).toEqual([1, { releasedTimes: 3 }]);
      expect((await ledger(done.jobId)).map(([, outcome]) => outcome)).toEqual(['released', 'released', 'released', 'completed']);
    });

    it('a handler that throws after release() fails its try as usual', async () => {
      const failed = await until((await runner.dispatch(ReleasingJob, { releases: 1, delayMs: 0, throwAfter: true })).jobId, [JobStatus.Failed]);
      expect([failed.attempts, failed.failedReason]).toEqual([1, 'released, then failed']);
    });

    it('refuses a delay that is not a number ≥ 0 (the handler throws, the try fails)', async () => {
      const failed = await until((await runner.dispatch(ReleasingJob, { releases: 1, delayMs: -5 })).jobId, [JobStatus.Failed]);
      expect(failed.failedReason).toBe('ctx.release({ delayMs }) needs a number of milliseconds ≥ 0; got -5.');
    });

    it('after the job’s retryUntil moment, a release fails the job', async () => {
      const failed = await until((await runner.dispatch(LateReleasingJob, {})).jobId, [JobStatus.Failed]);
      expect(failed.failedReason).toMatch(/^Released after its retryUntil moment \(.*\); not run again\.$/);
      expect(await ledger(failed.jobId)).toEqual([[1, 'failed']]);
    });
  });

  describe('stoppable: false', () => {
    it('refuses stop() of a pending or running job with JobStateConflictError, in any process, and HTTP 409', async () => {
      const pending = await runner.dispatch(UnstoppableJob, { ms: 800 }, { delayMs: 60_000 });
      await expect(webRunner.stop(pending.jobId)).rejects.toThrow(JobStateConflictError);
      await expect(runner.stop(pending.jobId)).rejects.toThrow(/is pending and cannot be stopped: its job is declared stoppable: false/);

      const owner = { id: asA['x-user'], tenantId: asA['x-tenant'] };
      const running = await runner.dispatch(UnstoppableJob, { ms: 800 }, { owner });
      await until(running.jobId, [JobStatus.Running]);
      const error = await webRunner.stop(running.jobId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobStateConflictError);
      expect((error as JobStateConflictError).status).toBe(JobStatus.Running);
      const res = await request(web.getHttpServer()).delete(`/jobs/${running.jobId}`).set(asA).expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, status: 'running' });
      expect(res.body.message).toMatch(/cannot be stopped/);
      const done = await until(running.jobId, [JobStatus.Completed]);
      expect(done.result).toBe('finished');
    });
  });

  describe('ctx.disableStop()', () => {
    it('after it, stop() from another process is refused (HTTP 409) and the run completes', async () => {
      const owner = { id: asA['x-user'], tenantId: asA['x-tenant'] };
      const job = await runner.dispatch(PointOfNoReturnJob, { key: `${dialect}-plain` }, { owner });
      await waitFor(() => outcomes.get(`${dialect}-plain`) === 'disabled');
      await expect(webRunner.stop(job.jobId)).rejects.toThrow(JobStateConflictError);
      await request(web.getHttpServer()).delete(`/jobs/${job.jobId}`).set(asA).expect(409);
      const done = await until(job.jobId, [JobStatus.Completed]);
      expect(done.result).toBe('charged the card');
    });

    it('races a stop() from another process on the same database: exactly one of them wins, every time', async () => {
      const results: string[] = [];
      for (let i = 0; i < 8; i++) {
        const key = `${dialect}-race-${i}`;
        let ready!: () => void;
        let go!: () => void;
        const isReady = new Promise<void>((resolve) => (ready = resolve));
        gates.set(key, { ready, go: new Promise<void>((resolve) => (go = resolve)) });
        const job = await runner.dispatch(PointOfNoReturnJob, { key });
        await isReady;
        // Both at once, with a little jitter either way so that each side gets to be first.
        const jitter = (i % 4) * 2;
        const stop = sleep(i % 2 ? jitter : 0).then(() => webRunner.stop(job.jobId)).then(() => 'stopped' as const, (e: unknown) => e);
        await sleep(i % 2 ? 0 : jitter);
        go();
        const stopResult = await stop;
        const final = await until(job.jobId, [JobStatus.Completed, JobStatus.Stopped]);
        await waitFor(() => outcomes.has(key));
        if (stopResult === 'stopped') {
          expect([final.status, outcomes.get(key)]).toEqual([JobStatus.Stopped, 'stopped-first']);
        } else {
          expect(stopResult).toBeInstanceOf(JobStateConflictError);
          expect([final.status, outcomes.get(key)]).toEqual([JobStatus.Completed, 'disabled']);
        }
        results.push(outcomes.get(key)!);
      }
      // Loose on which side wins how often (timing); strict that each race had one winner (above).
      expect(results).toHaveLength(8);
    });

    it('holds for that run only: a stop that came first makes disableStop() throw, and the job ends stopped', async () => {
      const key = `${dialect}-late`;
      let ready!: () => void;
      let go!: () => void;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      gates.set(key, { ready, go: new Promise<void>((resolve) => (go = resolve)) });
      const job = await runner.dispatch(PointOfNoReturnJob, { key });
      await isReady;
      expect((await webRunner.stop(job.jobId)).status).toBe(JobStatus.Stopped);
      go();
      await waitFor(() => outcomes.get(key) === 'stopped-first');
      expect((await runner.find(job.jobId))!.status).toBe(JobStatus.Stopped);
    });
  });
});
