import { Injectable, type INestApplication } from '@nestjs/common';
import {
  JobRunnerService,
  JobStatus,
  ManagedJob,
  ManagedJobsConfigurationError,
  UnrecoverableJobError,
  type JobContext,
  type JobMiddleware,
} from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';

/** What the middleware and handlers saw, in order (a provider, so middleware get it injected). */
@Injectable()
class Trail {
  readonly lines: string[] = [];
  add(line: string): void {
    this.lines.push(line);
  }
}

/** Listed as a provider: resolved from the container, with `Trail` injected. */
@Injectable()
class OuterMiddleware implements JobMiddleware {
  constructor(private readonly trail: Trail) {}
  async use(ctx: JobContext, next: () => Promise<unknown>) {
    this.trail.add(`outer>${ctx.job.type}`);
    const result = await next();
    this.trail.add(`outer<${JSON.stringify(result)}`);
    return result;
  }
}

/**
 * Not listed anywhere: created with its dependency injected (`JobRunnerService`, which the
 * global module exports). It proves the injection worked by reading the job through it.
 */
@Injectable()
class CreatedMiddleware implements JobMiddleware {
  constructor(private readonly runner: JobRunnerService) {}
  async use(ctx: JobContext, next: () => Promise<unknown>) {
    const self = await this.runner.find(ctx.jobId);
    TRAIL.push(`created>${self?.status}`);
    return next();
  }
}
const TRAIL: string[] = [];

/** Skips `next()` for payloads marked `cached`, answering itself. */
@Injectable()
class CacheMiddleware implements JobMiddleware {
  constructor(private readonly trail: Trail) {}
  async use(ctx: JobContext<{ cached?: boolean }>, next: () => Promise<unknown>) {
    this.trail.add('cache');
    if (ctx.payload?.cached) return { fromCache: true };
    return next();
  }
}

/** Throws `UnrecoverableJobError` for payloads marked `refuse`. */
@Injectable()
class GuardMiddleware implements JobMiddleware {
  async use(ctx: JobContext<{ refuse?: boolean }>, next: () => Promise<unknown>) {
    if (ctx.payload?.refuse) throw new UnrecoverableJobError('refused by the guard');
    return next();
  }
}

@ManagedJob({ name: 'wrapped', tries: 3, middleware: [CacheMiddleware, GuardMiddleware, CreatedMiddleware] })
class WrappedJob {
  failedCalls = 0;
  constructor(private readonly trail: Trail) {}
  handle(ctx: JobContext<{ cached?: boolean; refuse?: boolean }>) {
    this.trail.add('handle');
    return { handled: ctx.payload };
  }
  failed() {
    this.failedCalls++;
  }
}

@ManagedJob({ name: 'plain-wrapped' })
class PlainJob {
  constructor(private readonly trail: Trail) {}
  handle() {
    this.trail.add('plain');
    return 'ok';
  }
}

describe.each(dialects)('job middleware on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let trail: Trail;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, {
      providers: [Trail, OuterMiddleware, CacheMiddleware, GuardMiddleware, WrappedJob, PlainJob],
      options: { middleware: [OuterMiddleware] },
    });
    runner = app.get(JobRunnerService);
    trail = app.get(Trail);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  beforeEach(() => {
    trail.lines.length = 0;
    TRAIL.length = 0;
  });

  const finished = (jobId: string) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && [JobStatus.Completed, JobStatus.Failed].includes(job.status) ? job : null;
    }, { timeoutMs: 15_000 });

  it('runs module-wide middleware around the job’s own, in order, resolved through DI with their dependencies', async () => {
    const job = await finished((await runner.dispatch(WrappedJob, {})).jobId);
    expect(job.status).toBe(JobStatus.Completed);
    expect(job.result).toEqual({ handled: {} });
    expect(trail.lines).toEqual(['outer>wrapped', 'cache', 'handle', 'outer<{"handled":{}}']);
    // Created with JobRunnerService injected: it read its own job, running.
    expect(TRAIL).toEqual(['created>running']);
    // The listed provider is the instance the module uses.
    expect(app.get(OuterMiddleware)).toBeInstanceOf(OuterMiddleware);
  });

  it('module-wide middleware wrap jobs that declare none', async () => {
    const job = await finished((await runner.dispatch(PlainJob, {})).jobId);
    expect(job.result).toBe('ok');
    expect(trail.lines).toEqual(['outer>plain-wrapped', 'plain', 'outer<"ok"']);
  });

  it('a middleware that skips next() answers for the handler: its value is the result', async () => {
    const job = await finished((await runner.dispatch(WrappedJob, { cached: true })).jobId);
    expect([job.status, job.result]).toEqual([JobStatus.Completed, { fromCache: true }]);
    expect(trail.lines).toEqual(['outer>wrapped', 'cache', 'outer<{"fromCache":true}']);
    expect(TRAIL).toEqual([]);
  });

  it('UnrecoverableJobError from a middleware fails the job at once, failed() called once', async () => {
    const instance = app.get(WrappedJob);
    const before = instance.failedCalls;
    const job = await finished((await runner.dispatch(WrappedJob, { refuse: true })).jobId);
    expect([job.status, job.attempts, job.maxAttempts, job.failedReason]).toEqual([JobStatus.Failed, 1, 3, 'refused by the guard']);
    expect(trail.lines).not.toContain('handle');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(instance.failedCalls - before).toBe(1);
  });
});

/** Middleware that cannot be resolved: the boot fails with the job and the class named, nothing runs. */
class NotInjectable implements JobMiddleware {
  constructor(readonly trail: Trail) {}
  async use(_ctx: JobContext, next: () => Promise<unknown>) {
    return next();
  }
}

@Injectable()
class NoUseMethod {}

class Unlisted {}

@Injectable()
class UnresolvableDependency implements JobMiddleware {
  constructor(readonly missing: Unlisted) {}
  async use(_ctx: JobContext, next: () => Promise<unknown>) {
    return next();
  }
}

@ManagedJob({ name: 'bad-middleware-1', middleware: [NotInjectable] })
class BadJob1 {
  handle() {}
}
@ManagedJob({ name: 'bad-middleware-2', middleware: [NoUseMethod as any] })
class BadJob2 {
  handle() {}
}
@ManagedJob({ name: 'bad-middleware-3', middleware: [UnresolvableDependency] })
class BadJob3 {
  handle() {}
}

describe('middleware that is not injectable', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it.each([
    ['a class with constructor arguments and no @Injectable()', { providers: [Trail, BadJob1] }, /Job "bad-middleware-1" \(BadJob1\): middleware NotInjectable cannot be resolved: its constructor takes arguments but the class is not decorated with @Injectable\(\)/],
    ['a class without use()', { providers: [BadJob2] }, /Job "bad-middleware-2" \(BadJob2\): middleware NoUseMethod cannot be resolved: it has no use\(ctx, next\) method/],
    ['a dependency Nest cannot resolve', { providers: [BadJob3] }, /Job "bad-middleware-3" \(BadJob3\): middleware UnresolvableDependency cannot be resolved: .*Unlisted/],
    ['a module-wide entry that is not a class', { options: { middleware: ['nope' as any] } }, /Option middleware: middleware "nope" cannot be resolved: it is not a class/],
  ])('refuses %s at boot', async (_what, opts, message) => {
    const boot = createTestApp(db, opts);
    await expect(boot).rejects.toThrow(ManagedJobsConfigurationError);
    await expect(boot).rejects.toThrow(message);
  });
});
