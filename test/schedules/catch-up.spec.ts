/**
 * Stop and restart: schedules declared in code (`forRoot({ schedules })`, `@ManagedJob({ schedule })`)
 * survive a restart with their planned run, catch up by their policy, and disappear when the code
 * no longer declares them.
 */
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ManagedSchedulesService, type ScheduleDefinition } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { hourlyCronAhead, jobsOf, occurrenceBack, setNextRunAt } from './schedule-helpers.js';
import { DeclaredTickJob, scheduleJobs, UndeclaredTickJob } from './schedule-jobs.js';

describe.each(dialects)('catch-up and declared schedules on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('after a stop and restart: none skips, latest runs one, all runs each missed occurrence (at most 100)', async () => {
    // Hourly, half an hour from now: nothing fires by itself during the test.
    const cron = hourlyCronAhead();
    const defs: ScheduleDefinition[] = [
      { name: 'c-none', job: 'tick', cron, catchUp: 'none', ownerId: 'c-none' },
      { name: 'c-latest', job: 'tick', cron, ownerId: 'c-latest' }, // the default
      { name: 'c-all', job: 'tick', cron, catchUp: 'all', ownerId: 'c-all' },
      { name: 'c-all-cap', job: 'tick', cron, catchUp: 'all', ownerId: 'c-all-cap' },
    ];
    app = await createTestApp(db, { providers: scheduleJobs, options: { schedules: defs } });
    const planned = (await app.get(ManagedSchedulesService).find('c-latest'))!.nextRunAt!;
    expect(planned.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
    await app.close();
    app = undefined;

    // Downtime: 5 occurrences missed (150 for c-all-cap).
    let ds = new DataSource({ ...db.typeorm });
    await ds.initialize();
    for (const name of ['c-none', 'c-latest', 'c-all']) await setNextRunAt(ds, dialect, name, occurrenceBack(cron, 5));
    await setNextRunAt(ds, dialect, 'c-all-cap', occurrenceBack(cron, 150));
    await ds.destroy();

    app = await createTestApp(db, { providers: scheduleJobs, migrate: false, options: { schedules: defs } });
    const schedules = app.get(ManagedSchedulesService);
    ds = app.get(DataSource);
    await waitFor(async () => (await schedules.list()).every((s) => s.nextRunAt!.getTime() > Date.now()), { timeoutMs: 5000 });
    const records = Object.fromEntries((await schedules.list()).map((s) => [s.name, s]));
    for (const s of Object.values(records)) expect(s.nextRunAt).toEqual(planned);

    expect(await jobsOf(ds, dialect, 'c-none')).toHaveLength(0);
    expect(records['c-none'].lastJobId).toBeNull();
    const latest = await jobsOf(ds, dialect, 'c-latest');
    expect(latest).toHaveLength(1);
    expect(records['c-latest'].lastRunAt).toEqual(occurrenceBack(cron, 1));
    expect(records['c-latest'].lastJobId).toBe(latest[0].jobId);
    expect(await jobsOf(ds, dialect, 'c-all')).toHaveLength(5);
    expect(await jobsOf(ds, dialect, 'c-all-cap')).toHaveLength(100);
    await app.close();
    app = undefined;
  });

  it('declares from the decorator and forRoot, keeps run-time schedules, and drops a schedule removed from the code', async () => {
    const forRoot: ScheduleDefinition = { name: 'from-forroot', job: 'tick', cron: '0 0 3 * * *', timezone: 'Europe/Paris', enabled: false };
    app = await createTestApp(db, { providers: [...scheduleJobs, DeclaredTickJob], migrate: false, options: { schedules: [forRoot] } });
    let schedules = app.get(ManagedSchedulesService);
    await schedules.upsert({ name: 'made-at-run-time', job: 'declared-tick', cron: '0 0 4 * * *' });
    expect(await schedules.find('declared-tick')).toMatchObject({ cron: '*/2 * * * * *', jobType: 'declared-tick', payload: { from: 'decorator' }, enabled: true });
    expect(await schedules.find('from-forroot')).toMatchObject({ timezone: 'Europe/Paris', enabled: false, nextRunAt: null });
    // The decorator's schedule fires.
    await waitFor(async () => (await schedules.find('declared-tick'))!.lastJobId, { timeoutMs: 5000 });
    // An operator enables the forRoot one; a restart that omits `enabled` … keeps the operator's choice.
    await schedules.enable('from-forroot');
    await app.close();

    // A web app that does not have the job: the decorator's schedule stays; an omitted `enabled`
    // keeps the operator's choice.
    app = await createTestApp(db, { providers: scheduleJobs, migrate: false, options: { worker: { enabled: false }, schedules: [{ ...forRoot, enabled: undefined }] } });
    schedules = app.get(ManagedSchedulesService);
    expect((await schedules.list()).map((s) => s.name)).toEqual(['declared-tick', 'from-forroot', 'made-at-run-time']);
    expect((await schedules.find('from-forroot'))!.enabled).toBe(true);
    await app.close();

    // New code: the job is still there but no longer declares a schedule. Its schedule goes; the
    // one made at run time for the same job stays.
    app = await createTestApp(db, { providers: [...scheduleJobs, UndeclaredTickJob], migrate: false, options: { schedules: [forRoot] } });
    schedules = app.get(ManagedSchedulesService);
    expect((await schedules.list()).map((s) => s.name)).toEqual(['from-forroot', 'made-at-run-time']);
    expect((await schedules.find('from-forroot'))!.enabled).toBe(false); // said explicitly this time
    await app.close();
    app = undefined;
  });
});
