/**
 * Durable schedules in one process and across two apps on one database (a "web" app without a
 * worker, where changes are made, and a "worker" app, whose ticker fires): cadence, exactly one
 * job per occurrence, run-time changes seen within about a second, overlap, once(), bad input.
 */
import type { INestApplication } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import {
  InvalidScheduleError,
  JobRunnerService,
  JobStatus,
  ManagedSchedulesService,
  ScheduleNotFoundError,
  UnknownJobError,
} from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { jobsOf, occurrences, scheduleRowCount } from './schedule-helpers.js';
import { scheduleJobs, ScheduleProbe, TickJob } from './schedule-jobs.js';

describe.each(dialects)('durable schedules on %s', (dialect) => {
  let db: TestDatabase;
  let worker: INestApplication;
  let web: INestApplication;
  let schedules: ManagedSchedulesService;
  let workerSchedules: ManagedSchedulesService;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    worker = await createTestApp(db, { providers: scheduleJobs });
    web = await createTestApp(db, { providers: scheduleJobs, migrate: false, options: { worker: { enabled: false } } });
    schedules = web.get(ManagedSchedulesService);
    workerSchedules = worker.get(ManagedSchedulesService);
    ds = web.get(DataSource);
  });

  afterAll(async () => {
    await web?.close();
    await worker?.close();
    await db?.drop();
  });

  it('fires every occurrence exactly once, about on time, as an ordinary job of the schedule’s owner', async () => {
    const created = await schedules.upsert({ name: 'cadence', job: TickJob, cron: '* * * * * *', payload: { n: 1 }, ownerId: 'cadence', tenantId: 't1' });
    expect(created).toMatchObject({ name: 'cadence', cron: '* * * * * *', timezone: 'UTC', jobType: 'tick', payload: { n: 1 }, enabled: true, catchUp: 'latest', overlap: 'allow', lastRunAt: null, lastJobId: null });
    const firstOccurrence = created.nextRunAt!;
    await sleep(4500);
    const stopped = await schedules.disable('cadence');
    expect(stopped.enabled).toBe(false);
    expect(stopped.nextRunAt).toBeNull();
    await sleep(300); // a tick already past its compare-and-set may still commit

    const record = (await schedules.find('cadence'))!;
    const jobs = await jobsOf(ds, dialect, 'cadence');
    const expected = occurrences('* * * * * *', firstOccurrence, record.lastRunAt!);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(jobs).toHaveLength(expected.length); // one job per occurrence, none twice
    expect(record.lastJobId).toBe(jobs.at(-1)!.jobId);
    for (let i = 0; i < jobs.length; i++) {
      // Each job is written within about a second of its occurrence (loose: the machine is shared).
      const lateMs = jobs[i].createdAt.getTime() - expected[i].getTime();
      expect(lateMs).toBeGreaterThanOrEqual(-50);
      expect(lateMs).toBeLessThan(1500);
    }
    const done = await waitFor(async () => {
      const all = await jobsOf(ds, dialect, 'cadence');
      return all.every((j) => j.status === JobStatus.Completed) && all;
    });
    const probe = worker.get(ScheduleProbe);
    const ran = probe.runs.filter((r) => r.owner === 'cadence');
    expect(ran.map((r) => r.jobId).sort()).toEqual(done.map((j) => j.jobId).sort());
    expect(ran.every((r) => (r.payload as any)?.n === 1)).toBe(true);
    const one = await web.get(JobRunnerService).find(done[0].jobId);
    expect(one).toMatchObject({ type: 'tick', ownerUserId: 'cadence', ownerTenantId: 't1' });
    await schedules.remove('cadence');
  });

  it('sees upsert, disable, enable, trigger and remove made in another app within about a second', async () => {
    const owner = 'remote';
    await schedules.upsert({ name: 'remote', job: 'tick', cron: '* * * * * *', ownerId: owner });
    // The web app has no ticker: the worker app picks the new schedule up by itself.
    await waitFor(async () => (await jobsOf(ds, dialect, owner)).length >= 1, { timeoutMs: 3000 });

    await schedules.disable('remote');
    await sleep(1300); // within about a second, plus a tick that was already firing
    const afterDisable = (await jobsOf(ds, dialect, owner)).length;
    await sleep(2000);
    expect((await jobsOf(ds, dialect, owner)).length).toBe(afterDisable);
    expect((await workerSchedules.find('remote'))!.enabled).toBe(false);

    const t0 = Date.now();
    const triggered = await schedules.trigger('remote'); // fires even while disabled
    expect(triggered).toMatchObject({ type: 'tick', ownerUserId: owner, status: JobStatus.Pending });
    const ranTriggered = await waitFor(async () => {
      const job = await web.get(JobRunnerService).find(triggered.jobId);
      return job?.status === JobStatus.Completed && job;
    }, { timeoutMs: 5000 });
    expect(ranTriggered.startedAt!.getTime() - t0).toBeLessThan(2500);
    expect((await schedules.find('remote'))!.lastJobId).toBe(triggered.jobId);

    const beforeEnable = (await jobsOf(ds, dialect, owner)).length;
    await schedules.enable('remote');
    await waitFor(async () => (await jobsOf(ds, dialect, owner)).length >= beforeEnable + 2, { timeoutMs: 4000 });

    // A new cron is seen too: every 2 seconds now.
    const changed = await schedules.upsert({ name: 'remote', job: 'tick', cron: '*/2 * * * * *', ownerId: owner });
    expect(changed.cron).toBe('*/2 * * * * *');
    expect(changed.nextRunAt!.getUTCSeconds() % 2).toBe(0);

    await schedules.remove('remote');
    expect(await schedules.find('remote')).toBeNull();
    await sleep(1300);
    const afterRemove = (await jobsOf(ds, dialect, owner)).length;
    await sleep(2000);
    expect((await jobsOf(ds, dialect, owner)).length).toBe(afterRemove);
    await expect(schedules.enable('remote')).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await expect(schedules.trigger('remote')).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('overlap "skip": no occurrence starts while the previous job is pending or running', async () => {
    const owner = 'overlap';
    await schedules.upsert({ name: 'overlap', job: 'slow-tick', cron: '* * * * * *', payload: { ms: 2200 }, overlap: 'skip', ownerId: owner });
    const first = (await schedules.find('overlap'))!.nextRunAt!;
    await sleep(6500);
    await schedules.disable('overlap');
    await sleep(300);
    const record = (await schedules.find('overlap'))!;
    const jobs = await jobsOf(ds, dialect, owner);
    const passed = occurrences('* * * * * *', first, new Date(Date.now() - 400)).length;
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    expect(jobs.length).toBeLessThan(passed - 1); // occurrences were skipped
    for (let i = 1; i < jobs.length; i++) {
      // The next job was only written after the previous one had finished.
      expect(jobs[i - 1].finishedAt).not.toBeNull();
      expect(jobs[i].createdAt.getTime()).toBeGreaterThanOrEqual(jobs[i - 1].finishedAt!.getTime());
    }
    expect(record.overlap).toBe('skip');
    await schedules.remove('overlap');
  });

  it('once(): one job at the given time, and the same job for the same name', async () => {
    const at = new Date(Date.now() + 1500);
    const calls = await Promise.all([1, 2, 3].map(() => schedules.once('report-2024', at, TickJob, { year: 2024 }, { ownerId: 'once' })));
    const again = await workerSchedules.once('report-2024', new Date(Date.now() + 60_000), 'tick', { other: true }, { ownerId: 'someone-else' });
    for (const job of [...calls, again]) expect(job.jobId).toBe(calls[0].jobId);
    expect(calls[0].availableAt.getTime()).toBe(at.getTime());
    expect(await jobsOf(ds, dialect, 'once')).toHaveLength(1);
    expect(await jobsOf(ds, dialect, 'someone-else')).toHaveLength(0);

    const done = await waitFor(async () => {
      const job = await web.get(JobRunnerService).find(calls[0].jobId);
      return job?.status === JobStatus.Completed && job;
    }, { timeoutMs: 6000 });
    expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime() - 5);
    expect(done.payload).toEqual({ year: 2024 });
    // Still the same job once it has run.
    expect((await schedules.once('report-2024', new Date(), TickJob, {})).jobId).toBe(calls[0].jobId);
    // A one-off is not a cron schedule, and the two kinds never share a name.
    expect(await schedules.find('report-2024')).toBeNull();
    expect((await schedules.list()).map((s) => s.name)).not.toContain('report-2024');
    await expect(schedules.upsert({ name: 'report-2024', job: 'tick', cron: '* * * * *' })).rejects.toBeInstanceOf(InvalidScheduleError);
    await schedules.upsert({ name: 'nightly', job: 'tick', cron: '0 3 * * *', timezone: 'Europe/Berlin' });
    await expect(schedules.once('nightly', new Date(), 'tick', {})).rejects.toBeInstanceOf(InvalidScheduleError);
    // remove() frees a one-off's name.
    await schedules.remove('report-2024');
    const fresh = await schedules.once('report-2024', new Date(Date.now() + 60_000), 'tick', {}, { ownerId: 'once' });
    expect(fresh.jobId).not.toBe(calls[0].jobId);
    await web.get(JobRunnerService).stop(fresh.jobId);
    await schedules.remove('report-2024');
    await schedules.remove('nightly');
  });

  it('refuses a bad cron, time zone, policy or job with a typed error and writes nothing', async () => {
    const before = await scheduleRowCount(ds);
    const bad = [
      { name: 'b1', job: 'tick', cron: 'every day' },
      { name: 'b2', job: 'tick', cron: '61 * * * *' },
      { name: 'b3', job: 'tick', cron: '* * * * * * *' }, // 7 fields: years are not offered
      { name: 'b4', job: 'tick', cron: '0 3 * * *', timezone: 'Mars/Olympus_Mons' },
      { name: 'b5', job: 'tick', cron: '0 3 * * *', catchUp: 'some' as any },
      { name: 'b6', job: 'tick', cron: '0 3 * * *', overlap: 'never' as any },
      { name: '', job: 'tick', cron: '0 3 * * *' },
    ];
    for (const def of bad) {
      const error = await schedules.upsert(def).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidScheduleError);
      expect(error.scheduleName).toBe(def.name);
    }
    await expect(schedules.upsert({ name: 'b7', job: 'no-such-job', cron: '0 3 * * *' })).rejects.toBeInstanceOf(UnknownJobError);
    await expect(schedules.once('b8', new Date('nope'), 'tick', {})).rejects.toBeInstanceOf(InvalidScheduleError);
    expect(await scheduleRowCount(ds)).toBe(before);
    expect((await schedules.list()).map((s) => s.name)).toEqual([]);
  });

  it('fails the boot for a declared schedule with a bad cron or time zone, and writes nothing', async () => {
    const before = await scheduleRowCount(ds);
    for (const schedule of [{ cron: '* * nope' }, { cron: '0 3 * * *', timezone: 'Europe/Atlantis' }]) {
      let app: INestApplication | undefined;
      const boot = createTestApp(db, {
        providers: scheduleJobs,
        migrate: false,
        options: { schedules: [{ name: 'declared-bad', job: 'tick', ...schedule }, { name: 'declared-good', job: 'tick', cron: '0 3 * * *' }] },
        configure: (a) => (app = a),
      });
      await expect(boot).rejects.toBeInstanceOf(InvalidScheduleError);
      await app?.close();
    }
    expect(await scheduleRowCount(ds)).toBe(before);
  });
});
