import { jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { JobRunnerService, JobStatus, LocalStorageDriver, ManagedJobFilesService } from '../../lib/index.js';
import { createDailyCron } from '../../lib/maintenance/daily-cron.js';
import { DAILY_MAINTENANCE_CRON, ManagedJobsScheduler } from '../../lib/maintenance/managed-jobs.scheduler.js';
import { createTestDatabase, dialects, tmpDir, waitFor, type TestDatabase } from '../support/databases.js';
import { createHttpApp } from './http-app.js';
import { httpJobs, WriteFilesJob } from './http-jobs.js';

const userA = { getManagedJobOwnerId: () => 'user-a', getManagedJobTenantId: () => 'tenant-1' };

describe('daily cron timing (controlled clock)', () => {
  afterEach(() => jest.useRealTimers());

  it('fires at the configured local time, once a day', async () => {
    jest.useFakeTimers({ now: new Date(2026, 2, 10, 21, 59, 58) });
    const ticks: Date[] = [];
    const cron = createDailyCron(CronJob, '22:00', async () => void ticks.push(new Date()));
    try {
      await jest.advanceTimersByTimeAsync(1_000);
      expect(ticks).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(2_000);
      expect(ticks).toHaveLength(1);
      expect([ticks[0].getHours(), ticks[0].getMinutes()]).toEqual([22, 0]);
      await jest.advanceTimersByTimeAsync(23 * 60 * 60 * 1000);
      expect(ticks).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(60 * 60 * 1000);
      expect(ticks).toHaveLength(2);
      expect(ticks[1].getDate()).toBe(11);
    } finally {
      await cron.stop();
    }
  });

  it('does not overlap a slow run with the next tick', async () => {
    jest.useFakeTimers({ now: new Date(2026, 2, 10, 6, 29, 59) });
    let running = 0;
    let maxRunning = 0;
    const cron = createDailyCron(CronJob, '06:30', async () => {
      maxRunning = Math.max(maxRunning, ++running);
      await new Promise((r) => setTimeout(r, 25 * 60 * 60 * 1000)); // longer than a day
      running--;
    });
    try {
      await jest.advanceTimersByTimeAsync(3 * 24 * 60 * 60 * 1000);
      expect(maxRunning).toBe(1);
    } finally {
      const stopping = cron.stop(); // waits for the run in progress
      await jest.advanceTimersByTimeAsync(26 * 60 * 60 * 1000);
      await stopping;
    }
  });
});

/** Local storage whose deletes wait for `release()`: holds a maintenance run open. */
class GatedStorage extends LocalStorageDriver {
  private gate: Promise<void> = Promise.resolve();
  release: () => void = () => undefined;
  deletes = 0;
  hold() {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  override async delete(path: string) {
    this.deletes++;
    await this.gate;
    return super.delete(path);
  }
}

describe.each(dialects)('scheduled maintenance on %s', (dialect) => {
  let db: TestDatabase;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** A completed job with one expired file; returns the file's path under `root`. */
  async function expiredFile(app: INestApplication, root: string): Promise<string> {
    const runner = app.get(JobRunnerService);
    const job = await runner.dispatch(WriteFilesJob, { files: [{ name: 'old.txt', content: 'x', expiresInMs: -1 }] }, { owner: userA });
    await waitFor(async () => (await runner.find(job.jobId))?.status === JobStatus.Completed, { timeoutMs: 20_000 });
    const [path] = readdirSync(join(root, job.jobId), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    expect(existsSync(path)).toBe(true);
    return path;
  }

  it('registers the cron at schedule.expireFilesAt with the host’s ScheduleModule, and its tick expires files', async () => {
    const root = tmpDir('sched');
    const app = await createHttpApp(db, { providers: httpJobs, imports: [ScheduleModule.forRoot()], options: { storage: { root }, schedule: { expireFilesAt: '03:15' } } });
    apps.push(app);
    const cron = app.get(SchedulerRegistry).getCronJob(DAILY_MAINTENANCE_CRON);
    const next = cron.nextDate().toJSDate();
    expect([next.getHours(), next.getMinutes(), next.getSeconds()]).toEqual([3, 15, 0]);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 60 * 60 * 1000);
    expect(next.getTime()).toBeGreaterThan(Date.now());

    const path = await expiredFile(app, root);
    await cron.fireOnTick(); // resolves when the tick's run has finished
    expect(existsSync(path)).toBe(false);
    expect(await app.get(ManagedJobFilesService).expireFiles()).toBe(0);
  });

  it('skips with a warning when ScheduleModule is not imported, and registers nothing when disabled', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const app = await createHttpApp(db, { providers: httpJobs, options: { worker: { enabled: false } } });
      apps.push(app);
      expect(warn.mock.calls.some(([m]) => String(m).includes('ScheduleModule.forRoot()'))).toBe(true);
      const off = await createHttpApp(db, { providers: httpJobs, imports: [ScheduleModule.forRoot()], options: { worker: { enabled: false }, schedule: { enabled: false } } });
      apps.push(off);
      expect(off.get(SchedulerRegistry).getCronJobs().size).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });

  it('runs on only one of two apps sharing the database, and never twice at once in one app', async () => {
    const root = tmpDir('shared-root');
    const storage1 = new GatedStorage(root);
    const storage2 = new GatedStorage(root);
    const app1 = await createHttpApp(db, { providers: httpJobs, imports: [ScheduleModule.forRoot()], options: { storage: { driver: storage1 } } });
    const app2 = await createHttpApp(db, {
      providers: httpJobs,
      imports: [ScheduleModule.forRoot()],
      options: { storage: { driver: storage2 }, worker: { enabled: false } },
      migrate: false,
    });
    apps.push(app1, app2);
    await app1.get(ManagedJobsScheduler).runDaily(); // clean slate
    const path = await expiredFile(app1, root);

    storage1.hold();
    storage2.hold();
    const first = app1.get(ManagedJobsScheduler).runDaily();
    await waitFor(() => storage1.deletes > 0); // app1 holds the lock, inside its run
    const [second, again] = await Promise.all([
      Promise.race([app2.get(ManagedJobsScheduler).runDaily(), new Promise((r) => setTimeout(() => r('blocked'), 5_000))]),
      app1.get(ManagedJobsScheduler).runDaily(),
    ]);
    expect(second).toBeNull();
    expect(again).toBeNull();
    expect(storage2.deletes).toBe(0);
    storage1.release();
    expect(await first).toEqual({ expiredFiles: 1, prunedJobs: 0 });

    // The lock is free again: the other app may run the next one.
    storage2.release();
    expect(await app2.get(ManagedJobsScheduler).runDaily()).toEqual({ expiredFiles: 0, prunedJobs: 0 });
    expect(existsSync(path)).toBe(false);
  });
});
