import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  JobEventsPublisher,
  JobRunnerService,
  JobStatus,
  ManagedJob,
  ManagedJobAttemptEntity,
  ManagedJobEvents,
  ManagedJobsConfigurationError,
  ManagedJobsError,
  UnrecoverableJobError,
  type JobContext,
  type ManagedJobEvent,
  type ManagedJobOptions,
  type ManagedJobsModuleOptions,
} from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fails its first two runs, then completes: with `tries: 1`, only `retryUntil` can get it there. */
@ManagedJob({ name: 'until-later', tries: 1, retryUntil: (job) => new Date(job.createdAt.getTime() + 60_000) })
class UntilLaterJob {
  handle(ctx: JobContext) {
    if (ctx.attempt < 3) throw new Error(`run ${ctx.attempt} failed`);
    return { ranTimes: ctx.attempt };
  }
}

/** `tries: 5`, but its moment has passed: the first failure ends it. */
@ManagedJob({ name: 'until-past', tries: 5, retryUntil: () => new Date(Date.now() - 1000) })
class UntilPastJob {
  handle(): never {
    throw new Error('too late');
  }
}

/** retryUntil is now + `untilOffsetMs` (changed by the test); fails its first run, completes its second. */
let untilOffsetMs = -1000;
@ManagedJob({ name: 'until-refreshed', tries: 1, retryUntil: () => new Date(Date.now() + untilOffsetMs) })
class UntilRefreshedJob {
  handle(ctx: JobContext) {
    if (ctx.attempt === 1) throw new Error('first run fails');
    return 'second run';
  }
}

@ManagedJob({ name: 'until-broken', retryUntil: () => 'tomorrow' as unknown as Date })
class UntilBrokenJob {
  handle() {}
}

@ManagedJob({ name: 'unrecoverable', tries: 5 })
class UnrecoverableJob {
  failedCalls: string[] = [];
  handle(): never {
    throw new UnrecoverableJobError('the input can never work');
  }
  failed(error: Error) {
    this.failedCalls.push(error.message);
  }
}

/** Takes longer than its timeout; no `failOnTimeout` of its own, so the module's default (true) holds. */
@ManagedJob({ name: 'slow-default', timeout: 0.3, tries: 3 })
class SlowDefaultJob {
  async handle(ctx: JobContext) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  }
}

/** Its own `failOnTimeout: false` wins over the module's default: a timeout uses the next try. */
@ManagedJob({ name: 'slow-retried', timeout: 0.3, failOnTimeout: false })
class SlowRetriedJob {
  async handle(ctx: JobContext) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
  }
}

const backoffCalls: Array<[string, number, string]> = [];

@ManagedJob({
  name: 'backoff-fn',
  tries: 3,
  backoff: (attempt, error) => {
    backoffCalls.push([error.message.split(':')[0], attempt, error.message]);
    return attempt === 1 ? 1 : 0;
  },
})
class BackoffFnJob {
  handle(ctx: JobContext<{ id: string }>): never {
    throw new Error(`${ctx.payload.id}: fail ${ctx.attempt}`);
  }
}

/** A backoff function that throws: the retry happens anyway, without delay. */
@ManagedJob({ name: 'backoff-throws', backoff: () => { throw new Error('no idea'); } })
class BackoffThrowsJob {
  handle(): never {
    throw new Error('fails');
  }
}

/** No options of its own: `tries` comes from `jobDefaults` (2). */
@ManagedJob({ name: 'defaults-only' })
class DefaultsOnlyJob {
  handle(): never {
    throw new Error('always');
  }
}

const jobs = [BackoffThrowsJob, UntilLaterJob, UntilPastJob, UntilRefreshedJob, UntilBrokenJob, UnrecoverableJob, SlowDefaultJob, SlowRetriedJob, BackoffFnJob, DefaultsOnlyJob];

describe.each(dialects)('retry policy on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  const events: ManagedJobEvent[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: jobs, options: { jobDefaults: { tries: 2, failOnTimeout: true } } });
    runner = app.get(JobRunnerService);
    app.get(JobEventsPublisher).subscribe((event) => events.push(event));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const ended = (jobId: string, timeoutMs = 15_000) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && [JobStatus.Completed, JobStatus.Failed].includes(job.status) ? job : null;
    }, { timeoutMs });
  const ledger = async (jobId: string) =>
    app.get(DataSource).getRepository(ManagedJobAttemptEntity).find({ where: { jobId }, order: { fence: 'ASC' } });

  it('retryUntil in the future retries past `tries`, and is stored at dispatch', async () => {
    const dispatched = await runner.dispatch(UntilLaterJob, {});
    // Evaluated before the insert, with `createdAt` on the host's clock (the stored one is the database's).
    expect(Math.abs(dispatched.retryUntil!.getTime() - (dispatched.createdAt.getTime() + 60_000))).toBeLessThan(5_000);
    expect((await runner.find(dispatched.jobId))!.retryUntil!.getTime()).toBe(dispatched.retryUntil!.getTime());
    const job = await ended(dispatched.jobId);
    expect([job.status, job.attempts, job.maxAttempts, job.result]).toEqual([JobStatus.Completed, 3, 1, { ranTimes: 3 }]);
    expect((await ledger(job.jobId)).map((a) => a.outcome)).toEqual(['retrying', 'retrying', 'completed']);
  });

  it('retryUntil in the past ends the job at its first failure, whatever `tries` says', async () => {
    const job = await ended((await runner.dispatch(UntilPastJob, {})).jobId);
    expect([job.status, job.attempts, job.maxAttempts, job.failedReason]).toEqual([JobStatus.Failed, 1, 5, 'too late']);
  });

  it('retry() evaluates retryUntil again, as Laravel’s queue:retry does', async () => {
    untilOffsetMs = -1000;
    const failed = await ended((await runner.dispatch(UntilRefreshedJob, {})).jobId);
    expect([failed.status, failed.attempts]).toEqual([JobStatus.Failed, 1]);
    untilOffsetMs = 60_000;
    const retried = await runner.retry(failed.jobId);
    expect(retried.retryUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
    const done = await ended(failed.jobId);
    expect([done.status, done.attempts, done.maxAttempts, done.result]).toEqual([JobStatus.Completed, 2, 1, 'second run']);
  });

  it('refuses a dispatch whose retryUntil() returns no valid Date, writing nothing', async () => {
    const before = (await runner.list({ type: 'until-broken' })).meta.total;
    await expect(runner.dispatch(UntilBrokenJob, {})).rejects.toThrow(ManagedJobsError);
    await expect(runner.dispatch(UntilBrokenJob, {})).rejects.toThrow(/retryUntil\(\) of job "until-broken" must return a valid Date; it returned tomorrow/);
    expect((await runner.list({ type: 'until-broken' })).meta.total).toBe(before);
  });

  it('UnrecoverableJobError fails the job at once: no retry, failed() called once, its message as failedReason', async () => {
    const job = await ended((await runner.dispatch(UnrecoverableJob, {})).jobId);
    expect([job.status, job.attempts, job.maxAttempts, job.failedReason]).toEqual([JobStatus.Failed, 1, 5, 'the input can never work']);
    await sleep(100);
    expect(app.get(UnrecoverableJob).failedCalls).toEqual(['the input can never work']);
    expect((await ledger(job.jobId)).map((a) => a.outcome)).toEqual(['failed']);
  });

  it('failOnTimeout (from jobDefaults) fails a timed-out run for good; a job’s own false retries it', async () => {
    const [slow, retried] = await Promise.all([runner.dispatch(SlowDefaultJob, {}), runner.dispatch(SlowRetriedJob, {})]);
    const failed = await ended(slow.jobId);
    expect([failed.status, failed.attempts, failed.maxAttempts]).toEqual([JobStatus.Failed, 1, 3]);
    expect((await ledger(slow.jobId)).map((a) => a.outcome)).toEqual(['timeout']);
    const again = await ended(retried.jobId);
    expect([again.status, again.attempts, again.maxAttempts]).toEqual([JobStatus.Failed, 2, 2]); // tries from jobDefaults
    expect((await ledger(retried.jobId)).map((a) => a.outcome)).toEqual(['timeout', 'timeout']);
  });

  it('a backoff function that throws still lets the job retry, at once', async () => {
    const job = await ended((await runner.dispatch(BackoffThrowsJob, {})).jobId);
    expect([job.status, job.attempts]).toEqual([JobStatus.Failed, 2]);
    expect((await ledger(job.jobId)).map((a) => a.outcome)).toEqual(['retrying', 'failed']);
  });

  it('jobDefaults give `tries` to a job without its own', async () => {
    const job = await ended((await runner.dispatch(DefaultsOnlyJob, {})).jobId);
    expect([job.status, job.attempts, job.maxAttempts]).toEqual([JobStatus.Failed, 2, 2]);
  });

  it('a backoff function gets (attempt, error); each retry emits managed-job.retrying; the ledger keeps every message and stack', async () => {
    const id = `${dialect}-${Date.now()}`;
    const job = await ended((await runner.dispatch(BackoffFnJob, { id })).jobId);
    expect([job.status, job.attempts, job.failedReason]).toEqual([JobStatus.Failed, 3, `${id}: fail 3`]);
    expect(backoffCalls.filter(([tag]) => tag === id)).toEqual([
      [id, 1, `${id}: fail 1`],
      [id, 2, `${id}: fail 2`],
    ]);
    const rows = await ledger(job.jobId);
    expect(rows.map((a) => a.outcome)).toEqual(['retrying', 'retrying', 'failed']);
    rows.forEach((row, i) => {
      expect(row.error).toContain(`${id}: fail ${i + 1}`);
      expect(row.error).toMatch(/\n\s+at .*handle/); // the stack, down to the handler
    });
    // The 1 s backoff after the first try (loose: the machine is loaded).
    expect(rows[1].startedAt.getTime() - rows[0].finishedAt.getTime()).toBeGreaterThanOrEqual(900);
    const retrying = events.filter((e) => e.name === ManagedJobEvents.Retrying && e.job.jobId === job.jobId) as Array<ManagedJobEvent & { error: Error }>;
    expect(retrying.map((e) => [e.job.status, e.job.attempts, e.error.message])).toEqual([
      [JobStatus.Pending, 1, `${id}: fail 1`],
      [JobStatus.Pending, 2, `${id}: fail 2`],
    ]);
    expect(events.filter((e) => e.name === ManagedJobEvents.Failed && e.job.jobId === job.jobId)).toHaveLength(1);
  });
});

describe('job options refused at boot', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterAll(async () => {
    await db?.drop();
  });

  const jobWith = (options: ManagedJobOptions) => {
    @ManagedJob({ name: 'bad-options', ...options })
    class BadOptionsJob {
      handle() {}
    }
    return BadOptionsJob;
  };

  it.each<[string, ManagedJobOptions, RegExp]>([
    ['tries 0', { tries: 0 }, /Job "bad-options" \(BadOptionsJob\): tries must be an integer ≥ 1; got 0\./],
    ['a negative backoff', { backoff: -1 }, /backoff must be seconds ≥ 0.*got -1\./],
    ['an empty backoff list', { backoff: [] }, /backoff must be seconds ≥ 0.*got \[\]\./],
    ['a backoff list with a string', { backoff: [1, '5' as any] }, /backoff must be seconds ≥ 0.*got \[1,"5"\]\./],
    ['a timeout of 0', { timeout: 0 }, /timeout must be a number of seconds > 0; got 0\./],
    ['failOnTimeout as a string', { failOnTimeout: 'yes' as any }, /failOnTimeout must be a boolean; got "yes"\./],
    ['retryUntil as a Date', { retryUntil: new Date(0) as any }, /retryUntil must be a function \(job\) => Date/],
    ['stoppable as a string', { stoppable: 'no' as any }, /stoppable must be a boolean; got "no"\./],
  ])('refuses %s', async (_what, options, message) => {
    const boot = createTestApp(db, { providers: [jobWith(options)] });
    await expect(boot).rejects.toThrow(ManagedJobsConfigurationError);
    await expect(boot).rejects.toThrow(message);
  });

  it.each<[string, ManagedJobsModuleOptions['jobDefaults'], RegExp]>([
    ['jobDefaults.tries 1.5', { tries: 1.5 }, /Option jobDefaults: tries must be an integer ≥ 1; got 1\.5\./],
    ['jobDefaults.backoff as a string', { backoff: 'soon' as any }, /Option jobDefaults: backoff must be seconds ≥ 0.*got "soon"\./],
  ])('refuses %s, even with no job to take it', async (_what, jobDefaults, message) => {
    await expect(createTestApp(db, { options: { jobDefaults } })).rejects.toThrow(message);
  });
});
