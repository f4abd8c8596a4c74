/**
 * `ManagedJobsHealthIndicator` on every dialect: up when the database answers, the worker loop
 * ticks and no due job waits too long; down for a job stuck pending, a stopped worker loop, a
 * database that does not answer; and through a real Terminus `HealthCheckService` (200 / 503).
 */
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { ManagedJobsHealthIndicator } from '../../lib/index.js';
import { JOB_STORE } from '../../lib/managed-jobs.constants.js';
import type { JobStore } from '../../lib/store/job-store.interface.js';
import { JobWorker } from '../../lib/worker/job-worker.js';
import { newJob } from '../contract/store-helpers.js';
import { createTestApp, type TestAppOptions } from '../support/app.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { telemetryJobs } from './telemetry-jobs.js';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly jobs: ManagedJobsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.jobs.isHealthy('jobs', { maxOldestPendingAgeMs: 60_000 })]);
  }
}

@Module({ imports: [TerminusModule], controllers: [HealthController] })
class HealthModule {}

describe.each(dialects)('health indicator on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication | undefined;
  let indicator: ManagedJobsHealthIndicator;

  beforeEach(async () => (db = await createTestDatabase(dialect)));
  afterEach(async () => {
    await app?.close().catch(() => undefined);
    app = undefined;
    await db.drop();
  });

  async function start(opts: TestAppOptions = {}) {
    app = await createTestApp(db, { providers: telemetryJobs, imports: [HealthModule], ...opts, options: { worker: { pollIntervalMs: 100 }, ...opts.options } });
    indicator = app.get(ManagedJobsHealthIndicator);
  }

  /** A due job no process here can run (its type has no provider): it stays pending. */
  const stuckJob = (ageMs: number) => app!.get<JobStore>(JOB_STORE).insert([newJob({ type: 'elsewhere', availableAt: new Date(Date.now() - ageMs) })]);

  it('is up with a working worker and an empty queue, and says so through Terminus', async () => {
    await start({ listen: true });
    const result = await indicator.isHealthy('jobs');
    expect(result).toEqual({
      jobs: expect.objectContaining({ status: 'up', database: 'up', worker: 'running', oldestPendingAgeMs: null, maxOldestPendingAgeMs: 300_000 }),
    });
    expect(result.jobs.lastTickMsAgo).toBeLessThan(5_000);
    const res = await request(app!.getHttpServer()).get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { jobs: { status: 'up', worker: 'running' } } });
  });

  it('is down when the oldest due pending job waited longer than the limit (503 through Terminus)', async () => {
    await start({ listen: true });
    await stuckJob(120_000);
    const down = await indicator.isHealthy('jobs', { maxOldestPendingAgeMs: 60_000 });
    expect(down.jobs).toMatchObject({ status: 'down', database: 'up', worker: 'running' });
    expect(down.jobs.oldestPendingAgeMs).toBeGreaterThan(110_000);
    expect(down.jobs.message).toMatch(/The oldest due pending job has waited \d+ ms \(limit 60000 ms\)/);
    expect((await indicator.isHealthy('jobs', { maxOldestPendingAgeMs: 3_600_000 })).jobs.status).toBe('up');
    const res = await request(app!.getHttpServer()).get('/health').expect(503);
    expect(res.body).toMatchObject({ status: 'error', error: { jobs: { status: 'down' } } });
  });

  it('is down when the worker loop stopped', async () => {
    await start();
    expect((await indicator.isHealthy('jobs')).jobs.status).toBe('up');
    await app!.get(JobWorker).beforeApplicationShutdown();
    const down = await indicator.isHealthy('jobs');
    expect(down.jobs).toMatchObject({ status: 'down', worker: 'stopped', database: 'up', message: 'The worker loop is not running.' });
  });

  it('in a process without a worker, checks the database and the queue only', async () => {
    await start({ options: { worker: { enabled: false } } });
    expect((await indicator.isHealthy('web')).web).toMatchObject({ status: 'up', worker: 'off', database: 'up' });
    await stuckJob(120_000);
    expect((await indicator.isHealthy('web', { maxOldestPendingAgeMs: 1_000 })).web).toMatchObject({ status: 'down', worker: 'off' });
  });

  it('is down when the database does not answer', async () => {
    await start({ options: { worker: { enabled: false } } });
    await app!.get<JobStore>(JOB_STORE).close();
    await app!.get<DataSource>(getDataSourceToken()).destroy();
    const down = await indicator.isHealthy('jobs');
    expect(down.jobs).toMatchObject({ status: 'down', database: 'down' });
    expect(down.jobs.message).toMatch(/^The database did not answer: /);
  });
});
