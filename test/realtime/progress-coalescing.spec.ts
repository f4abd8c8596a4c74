import type { INestApplication } from '@nestjs/common';
import type { Socket } from 'socket.io-client';
import { JobEventsPublisher, JobRunnerService, ManagedJobEvents } from '../../lib/index.js';
import { JOB_STORE } from '../../lib/managed-jobs.constants.js';
import type { JobStore } from '../../lib/store/job-store.interface.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { ProgressFloodJob } from './realtime-jobs.js';
import { connect, eventsOf, record, subscribe } from './socket-client.js';

describe.each(dialects)('progress coalescing on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let socket: Socket;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: [ProgressFloodJob], listen: true });
  });

  afterAll(async () => {
    socket?.close();
    await app?.close();
    await db?.drop();
  });

  it('turns 100,000 updateProgress calls into a few dozen writes and broadcasts, ending at 100 before job.completed', async () => {
    const store = app.get<JobStore>(JOB_STORE);
    // Count the real writes: wrap the store method the worker calls.
    const writesOf = new Map<string, number>();
    const updateProgress = store.updateProgress.bind(store);
    store.updateProgress = (run, percent, message) => {
      writesOf.set(run.jobId, (writesOf.get(run.jobId) ?? 0) + 1);
      return updateProgress(run, percent, message);
    };
    const published: string[] = [];
    app.get(JobEventsPublisher).subscribe((event) => event.name === ManagedJobEvents.Progress && published.push(event.job.jobId));
    socket = await connect(app);
    const received = record(socket);
    await subscribe(socket, 'jobs.flooder');

    const started = Date.now();
    const job = await app.get(JobRunnerService).dispatch(ProgressFloodJob, { calls: 100_000 }, { ownerId: 'flooder' });
    await waitFor(() => eventsOf(received, job.jobId).some((r) => r.event === 'job.completed'), { timeoutMs: 60_000 });
    const elapsedMs = Date.now() - started;

    const events = eventsOf(received, job.jobId);
    const progress = events.filter((r) => r.event === 'job.progress');
    const jobWrites = writesOf.get(job.jobId) ?? 0;
    // Measured figures, for the README and for regressions.
    console.log(`${dialect}: 100000 updateProgress calls in ${elapsedMs} ms -> ${jobWrites} progress writes, ${progress.length} job.progress broadcasts`);

    expect(jobWrites).toBeGreaterThan(0);
    expect(jobWrites).toBeLessThanOrEqual(60);
    expect(progress.length).toBeLessThanOrEqual(60);
    expect(published.filter((id) => id === job.jobId).length).toBe(progress.length);
    // In order: started, progress never going back, completed last; the last progress is 100.
    expect(events[0].event).toBe('job.started');
    expect(events[events.length - 1].event).toBe('job.completed');
    const values = progress.map((r) => r.data.progress);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(values[values.length - 1]).toBe(100);
    expect(events[events.length - 1].data).toMatchObject({ progress: 100, progressMessage: 'call 100000', result: { calls: 100_000 } });
    store.updateProgress = updateProgress;
  });
});
