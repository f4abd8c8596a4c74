import type { INestApplication } from '@nestjs/common';
import { JobRunnerService } from '../../lib/index.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { allJobs, InstantJob, Probe, userA } from '../fixtures/jobs.js';

/**
 * better-sqlite3 is synchronous, so a backlog of instant jobs could be drained as one endless
 * chain of promise callbacks: timers (heartbeats), sockets and HTTP requests would wait for the
 * whole drain. The worker must give the event loop a turn between claims.
 */
describe('draining a SQLite backlog', () => {
  let db: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    app = await createTestApp(db, { providers: allJobs, options: { worker: { concurrency: 10, enabled: true } } });
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('keeps timers running while thousands of instant jobs run', async () => {
    const runner = app.get(JobRunnerService);
    const probe = app.get(Probe);
    const total = 10_000;
    const dueAt = new Date(Date.now() + 2000); // all due at once: one long backlog
    for (let i = 0; i < total; i += 1000) {
      await runner.dispatchMany(InstantJob, Array.from({ length: 1000 }, () => ({ payload: {}, options: { owner: userA, availableAt: dueAt } })));
    }
    let last = Date.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    const started = Date.now();
    try {
      await waitFor(() => probe.runs.length >= total, { timeoutMs: 60_000 });
    } finally {
      clearInterval(timer);
    }
    const drainMs = Date.now() - started;
    expect(probe.runs).toHaveLength(total);
    // The drain takes a while; no timer tick may wait anywhere near that long.
    expect(maxGap).toBeLessThan(250);
    expect(drainMs).toBeGreaterThan(maxGap);
  });
});
