/**
 * After `app.close()` nothing of the module is left open: no timer (poll, reaper, progress,
 * retry wake-ups, timeouts), no connection (LISTEN, the SQLite connection, the lease keeper's),
 * no worker thread. Closed mid-work: a job running with progress, one running with a timeout
 * armed (both handed back), one waiting a minute for its retry.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { JobRunnerService, JobStatus, ManagedJob, type JobContext, type ManagedJobHandler } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor } from '../support/databases.js';
import { trackResources } from '../support/resources.js';
import { LongJob, Probe } from '../fixtures/jobs.js';

@ManagedJob({ name: 'retry-in-a-minute', tries: 2, backoff: [60] })
class RetryLaterJob implements ManagedJobHandler {
  handle(): never {
    throw new Error('fails; retried in a minute');
  }
}

@ManagedJob({ name: 'armed-timeout', timeout: 60 })
class ArmedTimeoutJob implements ManagedJobHandler {
  async handle(ctx: JobContext) {
    await sleep(60_000, undefined, { signal: ctx.signal }).catch(() => undefined);
    return null;
  }
}

describe.each(dialects)('resources after app.close() on %s', (dialect) => {
  it('leaves no timer, handle, connection or thread open', async () => {
    const db = await createTestDatabase(dialect);
    try {
      const resources = trackResources();
      const app = await createTestApp(db, { providers: [Probe, LongJob, RetryLaterJob, ArmedTimeoutJob], options: { worker: { shutdownTimeoutMs: 200 } } });
      const runner = app.get(JobRunnerService);
      const long = await runner.dispatch(LongJob, { maxMs: 30_000 });
      const armed = await runner.dispatch(ArmedTimeoutJob, {});
      const retry = await runner.dispatch(RetryLaterJob, {});
      await waitFor(async () => {
        const [l, a, r] = await Promise.all([long, armed, retry].map((j) => runner.find(j.jobId)));
        return l?.status === JobStatus.Running && a?.status === JobStatus.Running && r?.status === JobStatus.Pending && r.attempts === 1;
      });
      expect(resources.alive()).toMatchObject({ Timeout: expect.any(Number), WORKER: 1 }); // the tracker sees them

      await app.close();
      expect(await resources.settle()).toEqual({});
    } finally {
      await db.drop();
    }
  });
});
