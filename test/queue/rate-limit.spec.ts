import type { INestApplication } from '@nestjs/common';
import { JobRunnerService, JobStatus } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { maxOverlap, maxStartsInWindow, QueueProbe, queueJobs, RateAndLimitJob, RateJob } from './queue-jobs.js';

describe.each(dialects)('rate limits on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let probe: QueueProbe;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    // A long poll: the worker must be woken by the rate window's timer, not by polling.
    app = await createTestApp(db, { providers: queueJobs, options: { worker: { concurrency: 8, pollIntervalMs: 60_000 } } });
    runner = app.get(JobRunnerService);
    probe = app.get(QueueProbe);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const startsOf = async (ids: string[]) =>
    (await Promise.all(ids.map((id) => runner.find(id)))).map((j) => ({ key: (j!.payload as { key: string }).key, start: j!.startedAt!.getTime() }));
  const allDone = (ids: string[], timeoutMs = 30_000) =>
    waitFor(async () => (await Promise.all(ids.map((id) => runner.find(id)))).every((j) => j?.status === JobStatus.Completed), { timeoutMs, intervalMs: 50 });

  it('starts at most `max` per key in any window of `perSeconds`, the rest as soon as the window allows, using no try', async () => {
    const startedAt = Date.now();
    const jobs = await runner.dispatchMany(RateJob, [
      ...Array.from({ length: 7 }, () => ({ payload: { key: 'api-a' } })),
      ...Array.from({ length: 3 }, () => ({ payload: { key: 'api-b' } })),
    ]);
    await allDone(jobs.map((j) => j.jobId));
    // A run starts when it is claimed (`startedAt`, the database clock): exact.
    const starts = await startsOf(jobs.map((j) => j.jobId));
    expect(maxStartsInWindow(starts, 1000)).toBe(3);
    const runs = probe.of('rate-3-per-s');
    const a = runs.filter((r) => r.key === 'api-a').map((r) => r.start - startedAt).sort((x, y) => x - y);
    // 7 jobs at 3 per second: windows open at ~1 s and ~2 s, found by the timer (the poll is a minute)
    expect(a[6]).toBeGreaterThanOrEqual(1900);
    expect(a[6]).toBeLessThan(4000);
    // key b was not held back by key a
    expect(Math.max(...runs.filter((r) => r.key === 'api-b').map((r) => r.start - startedAt))).toBeLessThan(900);
    for (const j of jobs) expect((await runner.find(j.jobId))!.attempts).toBe(1);
  });

  it('a job with both a concurrency key and a rate limit gets both', async () => {
    const jobs = await runner.dispatchMany(RateAndLimitJob, [
      ...Array.from({ length: 3 }, () => ({ payload: { key: 'k1', ms: 150 } })),
      ...Array.from({ length: 3 }, () => ({ payload: { key: 'k2', ms: 150 } })),
    ]);
    await allDone(jobs.map((j) => j.jobId));
    const runs = probe.of('rate-and-limit');
    expect(Math.max(...maxOverlap(runs).values())).toBe(1);
    // one rate key for the type: 2 starts per 0.5 s whatever the concurrency key
    const starts = await startsOf(jobs.map((j) => j.jobId));
    expect(maxStartsInWindow(starts.map((s) => ({ ...s, key: 'all' })), 500)).toBe(2);
  });
});
