/**
 * Values a job stores are held to one rule on every database (issue 11, bugs 1 and 2): a payload
 * class without decorators validates like any other, and NUL characters are refused with our typed
 * errors, never PostgreSQL's own "unsupported Unicode escape sequence".
 */
import { Injectable, type INestApplication } from '@nestjs/common';
import {
  InvalidJobPayloadError,
  JobRunnerService,
  JobStatus,
  ManagedJob,
  type JobContext,
  type ManagedJobHandler,
} from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';

class EmptyPayload {}

class UndecoratedPayload {
  name?: string;
}

@Injectable()
@ManagedJob({ name: 'empty-payload', payload: EmptyPayload })
class EmptyPayloadJob implements ManagedJobHandler<EmptyPayload> {
  async handle() {
    return 'ran';
  }
}

@Injectable()
@ManagedJob({ name: 'undecorated-payload', payload: UndecoratedPayload })
class UndecoratedPayloadJob implements ManagedJobHandler<UndecoratedPayload> {
  async handle() {}
}

type Attempt = 'result' | 'state' | 'step' | 'progress' | 'file';

/** Tries to store a NUL character the way the payload says, and reports what it was told. */
@Injectable()
@ManagedJob({ name: 'nul-writer' })
class NulWriterJob implements ManagedJobHandler<{ attempt: Attempt }> {
  async handle(ctx: JobContext<{ attempt: Attempt }>) {
    const nul = 'a\u0000b';
    const tried = async (write: () => Promise<unknown>) => {
      try {
        await write();
        return 'stored';
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    switch (ctx.payload.attempt) {
      case 'result':
        return { text: nul };
      case 'state':
        return tried(() => ctx.saveState({ cursor: nul }));
      case 'step':
        return tried(() => ctx.step('fetch', () => ({ [nul]: 1 })));
      case 'progress':
        return tried(() => ctx.updateProgress(10, nul));
      case 'file':
        return tried(() => ctx.putFile(nul, 'data', { mimeType: 'text/plain' }));
    }
  }
}

describe.each(dialects)('stored values on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  const total = async () => (await runner.list({})).meta.total;
  const finished = async (jobId: string) => {
    await waitFor(async () => [JobStatus.Completed, JobStatus.Failed].includes((await runner.find(jobId))!.status));
    return (await runner.find(jobId))!;
  };

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: [EmptyPayloadJob, UndecoratedPayloadJob, NulWriterJob] });
    runner = app.get(JobRunnerService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('a payload class without decorators accepts {} and refuses unknown properties', async () => {
    const job = await runner.dispatch(EmptyPayloadJob, {});
    expect((await finished(job.jobId)).result).toBe('ran');
    for (const [type, payload] of [
      ['empty-payload', { extra: 1 }],
      ['undecorated-payload', { name: 'x' }],
    ] as const) {
      const before = await total();
      const error = await runner.dispatch(type, payload).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidJobPayloadError);
      expect(error.violations[0].constraints).toHaveProperty('whitelistValidation');
      expect(await total()).toBe(before);
    }
    await expect(runner.dispatch(UndecoratedPayloadJob, {})).resolves.toBeDefined();
  });

  it('refuses a NUL character in a payload with InvalidJobPayloadError naming the property, writing nothing', async () => {
    const before = await total();
    const error = await runner.dispatch('nul-writer', { attempt: 'result', note: { deep: 'x\u0000' } }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidJobPayloadError);
    expect(error.violations).toEqual([{ property: 'note.deep', constraints: { storableText: expect.stringMatching(/NUL/) } }]);
    expect(await total()).toBe(before);
  });

  it('a result with a NUL character fails the job with a clear reason', async () => {
    const job = await finished((await runner.dispatch(NulWriterJob, { attempt: 'result' })).jobId);
    expect(job.status).toBe(JobStatus.Failed);
    expect(job.failedReason).toMatch(/^The job's result cannot be stored: result\.text must not contain NUL characters/);
  });

  it.each([
    ['state', /^InvalidJobValueError: The job's state cannot be stored: state\.cursor must not contain NUL/],
    ['step', /^InvalidJobValueError: The job's step "fetch" result cannot be stored: key a\\0b must not contain NUL/],
    ['progress', /^InvalidJobValueError: The job's progress message cannot be stored/],
    ['file', /^InvalidFileNameError/],
  ])('saving a %s with a NUL character throws a typed error to the handler', async (attempt, expected) => {
    const job = await finished((await runner.dispatch(NulWriterJob, { attempt: attempt as Attempt })).jobId);
    expect(job.status).toBe(JobStatus.Completed);
    expect(job.result).toMatch(expected);
  });
});
