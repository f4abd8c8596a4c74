/**
 * The operator's promises across real processes: a paused queue holds its jobs from a worker in
 * another process until resumed; waitFor wakes for a job another process ran; and (PostgreSQL)
 * a killed worker process drops out of the registry once its heartbeat is older than the lease.
 */
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJobsOperatorService } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { buildLibrary } from '../support/processes.js';
import { killAllCli, startCli, type CliChild } from './cli-process.js';
import { operatorJobs } from './operator-jobs.js';

const LEASE = { NMJ_LEASE_MS: '2000', NMJ_HEARTBEAT_MS: '200', NMJ_APP_WORKER: 'off' };

let library: string;
beforeAll(() => {
  library = buildLibrary();
}, 180_000);
afterEach(() => killAllCli());

describe.each(dialects)('operator across processes on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let operator: ManagedJobsOperatorService;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: operatorJobs, options: { worker: { enabled: false, leaseMs: 2000, heartbeatIntervalMs: 200 } } });
    runner = app.get(JobRunnerService);
    operator = app.get(ManagedJobsOperatorService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const liveWorker = (child: CliChild) =>
    waitFor(async () => (await operator.workers()).find((w) => w.pid === child.child.pid) ?? null, { timeoutMs: 60_000 });

  it('a paused queue holds its jobs from a worker in another process until resumed', async () => {
    await operator.pauseQueue('px');
    const worker = startCli(library, db, ['work', '--queues', 'px'], LEASE);
    await liveWorker(worker);
    const held = await runner.dispatch('op-echo', { value: 'held' }, { queue: 'px' });
    await new Promise((r) => setTimeout(r, 2000)); // ten polls of the other worker
    expect((await runner.find(held.jobId))!.status).toBe(JobStatus.Pending);
    await operator.resumeQueue('px');
    const done = await runner.waitFor(held.jobId, { timeoutMs: 30_000 });
    expect(done.status).toBe(JobStatus.Completed);
    expect(done.result).toEqual({ echoed: 'held', pid: worker.child.pid });
    worker.child.kill('SIGTERM');
    expect((await worker.result).code).toBe(0);
  });

  it('waitFor resolves for a job run by another process, soon after it ends', async () => {
    const worker = startCli(library, db, ['work', '--queues', 'wx'], LEASE);
    await liveWorker(worker);
    const job = await runner.dispatch('op-slow', { ms: 500 }, { queue: 'wx' });
    const started = Date.now();
    const done = await runner.waitFor(job.jobId, { timeoutMs: 30_000 });
    expect(done.status).toBe(JobStatus.Completed);
    expect(done.result).toEqual({ pid: worker.child.pid, aborted: false });
    // Ended after ~500 ms of work; the gentle poll (≤ 1 s between reads) notices within a second.
    expect(Date.now() - started).toBeLessThan(10_000);
    worker.child.kill('SIGTERM');
    await worker.result;
  });
});

describe('the worker registry with a killed process on postgres', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let operator: ManagedJobsOperatorService;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    app = await createTestApp(db, { providers: operatorJobs, options: { worker: { enabled: false, leaseMs: 2000, heartbeatIntervalMs: 200 } } });
    runner = app.get(JobRunnerService);
    operator = app.get(ManagedJobsOperatorService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const liveWorker = (child: CliChild) =>
    waitFor(async () => (await operator.workers()).find((w) => w.pid === child.child.pid) ?? null, { timeoutMs: 60_000 });

  it('drops a killed worker once its heartbeat is older than the lease, and the next worker deletes its row', async () => {
    const a = startCli(library, db, ['work', '--queues', 'kx', '--concurrency', '3'], LEASE);
    const b = startCli(library, db, ['work', '--queues', 'kx'], LEASE);
    const seen = await liveWorker(a);
    await liveWorker(b);
    expect(seen).toMatchObject({ queues: ['kx'], concurrency: 3, running: 0 });
    await runner.dispatch('op-slow', { ms: 60_000 }, { queue: 'kx' });
    await waitFor(async () => (await operator.workers()).some((w) => w.running === 1), { timeoutMs: 30_000 });
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    await Promise.all([a.result, b.result]);
    const killedAt = Date.now();
    await waitFor(async () => (await operator.workers()).length === 0, { timeoutMs: 30_000 });
    expect(Date.now() - killedAt).toBeGreaterThan(500); // no shutdown removed them: they aged out
    expect((await operator.stats()).workers).toBe(0);
    const rows = async () => Number((await app.get(DataSource).query(`SELECT count(*) AS n FROM managed_job_workers`))[0].n);
    expect(await rows()).toBe(2); // still there, hidden
    const c = startCli(library, db, ['work', '--queues', 'kx'], LEASE);
    await liveWorker(c);
    await waitFor(async () => (await rows()) === 1, { timeoutMs: 30_000 }); // its first beat swept the dead rows
    c.child.kill('SIGTERM');
    expect((await c.result).code).toBe(0);
  });
});
