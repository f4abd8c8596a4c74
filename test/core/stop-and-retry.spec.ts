import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJob, ManagedJobAttemptEntity, type JobContext } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Works until stopped, then returns how far it got (a partial result). */
@ManagedJob({ name: 'partial' })
class PartialJob {
  async handle(ctx: JobContext<{ returnNothing?: boolean; lingerMs?: number }>) {
    let rows = 0;
    while (!(await ctx.isStopped())) {
      rows++;
      await sleep(10);
    }
    await sleep(ctx.payload?.lingerMs ?? 0);
    return ctx.payload?.returnNothing ? undefined : { stoppedAfterRows: rows };
  }
}

/** Fails every run; the run number is part of the message. */
@ManagedJob({ name: 'always-fails', tries: 2 })
class AlwaysFailsJob {
  handle(ctx: JobContext): never {
    throw new Error(`run ${ctx.attempt} failed`);
  }
}

@ManagedJob({ name: 'fails-once-per-try' })
class OneTryJob {
  handle(): never {
    throw new Error('no');
  }
}

/**
 * Decided in issue 11: a handler that returns normally after a stop has its value kept as the
 * stopped job's `result`; `retry()` gives a fresh set of tries, so the counter restarts
 * (`attempts` 0 of the job's `tries`) and a retried job reads "1/1", not "2/2". The ledger keeps
 * every run, keyed by fence, so repeated attempt numbers stay apart.
 */
describe.each(dialects)('stopped results and retried attempts on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: [PartialJob, AlwaysFailsJob, OneTryJob] });
    runner = app.get(JobRunnerService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const until = (jobId: string, test: (job: NonNullable<Awaited<ReturnType<JobRunnerService['find']>>>) => boolean) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && test(job) ? job : null;
    }, { timeoutMs: 15_000 });
  const ledger = async (jobId: string) =>
    (await app.get(DataSource).getRepository(ManagedJobAttemptEntity).find({ where: { jobId }, order: { fence: 'ASC' } })).map((a) => [
      a.attempt,
      a.fence,
      a.outcome,
    ]);

  it("keeps what a stopped handler returns as the stopped job's result", async () => {
    const job = await runner.dispatch(PartialJob, { lingerMs: 200 });
    await until(job.jobId, (j) => j.status === JobStatus.Running);
    const stopped = await runner.stop(job.jobId);
    expect(stopped.status).toBe(JobStatus.Stopped);
    expect(stopped.result).toBeNull(); // the handler has not returned yet
    const kept = await until(job.jobId, (j) => j.result !== null);
    expect(kept.status).toBe(JobStatus.Stopped);
    expect(kept.result).toEqual({ stoppedAfterRows: expect.any(Number) });
    expect(await ledger(job.jobId)).toEqual([[1, 1, 'stopped']]);
  });

  it('stores null when a stopped handler returns nothing, and never writes over a retried run', async () => {
    const silent = await runner.dispatch(PartialJob, { returnNothing: true });
    await until(silent.jobId, (j) => j.status === JobStatus.Running);
    await runner.stop(silent.jobId);
    await sleep(500);
    expect((await runner.find(silent.jobId))!.result).toBeNull();

    // Stopped, then retried before the first run's handler returns: the late value belongs to a
    // run that no longer owns the job, so it is dropped.
    const late = await runner.dispatch(PartialJob, { lingerMs: 1500 });
    await until(late.jobId, (j) => j.status === JobStatus.Running);
    await runner.stop(late.jobId);
    await runner.retry(late.jobId);
    await until(late.jobId, (j) => j.status === JobStatus.Running && j.fence === 2);
    await sleep(2000);
    const now = (await runner.find(late.jobId))!;
    expect([now.status, now.result]).toEqual([JobStatus.Running, null]);
    await runner.stop(late.jobId);
    await until(late.jobId, (j) => j.result !== null);
  });

  it('restarts the attempt counter on retry: a retried job reads 1/1, and the ledger keeps every run', async () => {
    const once = await runner.dispatch(OneTryJob, {});
    const failed = await until(once.jobId, (j) => j.status === JobStatus.Failed);
    expect([failed.attempts, failed.maxAttempts]).toEqual([1, 1]);
    const retried = await runner.retry(once.jobId);
    expect([retried.status, retried.attempts, retried.maxAttempts]).toEqual([JobStatus.Pending, 0, 1]);
    const again = await until(once.jobId, (j) => j.status === JobStatus.Failed && j.fence === 2);
    expect([again.attempts, again.maxAttempts]).toEqual([1, 1]);
    expect(await ledger(once.jobId)).toEqual([
      [1, 1, 'failed'],
      [1, 2, 'failed'],
    ]);

    const twice = await runner.dispatch(AlwaysFailsJob, {});
    await until(twice.jobId, (j) => j.status === JobStatus.Failed);
    await runner.retry(twice.jobId);
    const second = await until(twice.jobId, (j) => j.status === JobStatus.Failed && j.fence === 4);
    expect([second.attempts, second.maxAttempts, second.failedReason]).toEqual([2, 2, 'run 2 failed']);
    expect(await ledger(twice.jobId)).toEqual([
      [1, 1, 'retrying'],
      [2, 2, 'failed'],
      [1, 3, 'retrying'],
      [2, 4, 'failed'],
    ]);
  });
});
