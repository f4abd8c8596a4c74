/** `unique`, `concurrency` and `rateLimit` are checked at boot: a bad option fails it, naming the job (no database involved). */
import { ManagedJob, ManagedJobsConfigurationError } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';

function jobWith(options: Record<string, unknown>) {
  @ManagedJob({ name: 'bad-options', ...options } as any)
  class BadOptionsJob {
    async handle() {}
  }
  return BadOptionsJob;
}

describe('queue-control options at boot', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each([
    [{ rateLimit: { max: 0, perSeconds: 1 } }, /BadOptionsJob: rateLimit\.max must be an integer ≥ 1; got number 0/],
    [{ rateLimit: { max: 1.5, perSeconds: 1 } }, /rateLimit\.max must be an integer ≥ 1/],
    [{ rateLimit: { max: 5, perSeconds: 0 } }, /BadOptionsJob: rateLimit\.perSeconds must be a number of seconds > 0; got number 0/],
    [{ rateLimit: { max: 5, perSeconds: -1 } }, /rateLimit\.perSeconds must be a number of seconds > 0/],
    [{ rateLimit: { max: 5, perSeconds: '60' } }, /rateLimit\.perSeconds must be a number of seconds > 0; got "60"/],
    [{ rateLimit: { max: 5 } }, /rateLimit\.perSeconds/],
    [{ rateLimit: 10 }, /rateLimit must be \{ max, perSeconds, key\? \}/],
    [{ rateLimit: { max: 5, perSeconds: 1, key: 'tenant' } }, /rateLimit\.key must be a function/],
    [{ concurrency: { limit: 0 } }, /BadOptionsJob: concurrency\.limit must be an integer ≥ 1; got number 0/],
    [{ concurrency: { limit: '2' } }, /concurrency\.limit must be an integer ≥ 1; got "2"/],
    [{ concurrency: 3 }, /concurrency must be \{ limit\?, key\? \}/],
    [{ concurrency: { key: 42 } }, /concurrency\.key must be a function/],
    [{ unique: { until: 'done' } }, /BadOptionsJob: unique\.until must be 'started' or 'finished'; got "done"/],
    [{ unique: 'yes' }, /unique must be a boolean or \{ key\?, until\? \}/],
    [{ unique: { key: 'k' } }, /unique\.key must be a function/],
  ])('%j fails the boot with ManagedJobsConfigurationError', async (options, message) => {
    const error = await createTestApp(db, { providers: [jobWith(options)] }).then(
      async (app) => {
        await app.close();
        return null;
      },
      (e) => e,
    );
    expect(error).toBeInstanceOf(ManagedJobsConfigurationError);
    expect(error.message).toMatch(message);
  });

  it('accepts the documented shapes', async () => {
    const app = await createTestApp(db, {
      providers: [jobWith({ unique: true, concurrency: {}, rateLimit: { max: 10, perSeconds: 0.5, key: () => 'k' } })],
    });
    await app.close();
  });
});
