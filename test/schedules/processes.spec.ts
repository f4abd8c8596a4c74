/**
 * Exactly one job per occurrence with several real processes on one database: 3 on PostgreSQL,
 * 2 on one SQLite file, 3 on MariaDB. Every process runs a ticker and declares the same schedules at boot (the
 * concurrent upserts must neither reset the plan nor duplicate anything).
 */
import type { INestApplication } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { JobStatus, ManagedSchedulesService, type ScheduleDefinition } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, waitFor, type Dialect, type TestDatabase } from '../support/databases.js';
import { jobsOf, occurrences } from './schedule-helpers.js';
import { scheduleJobs } from './schedule-jobs.js';
import { scheduleEnv, startScheduleProcesses, stopAll } from './schedule-processes.js';

const log = (label: string, figures: unknown) => process.stderr.write(`\n[schedules] ${label}: ${JSON.stringify(figures)}\n`);

describe.each([
  ['postgres', 3],
  ['sqlite', 2],
  ['mariadb', 3],
] as Array<[Dialect, number]>)('schedules with several processes on %s', (dialect, count) => {
  let db: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    // The spec's own app: migrations, run-time changes and reads; no worker, so no ticker.
    app = await createTestApp(db, { providers: scheduleJobs, options: { worker: { enabled: false } } });
  });

  afterAll(async () => {
    await stopAll();
    await app?.close();
    await db?.drop();
  });

  it(`${count} processes: one job per occurrence, none twice, each dispatched about on time`, async () => {
    const defs: ScheduleDefinition[] = [
      { name: 'every-second', job: 'tick', cron: '* * * * * *', ownerId: 'every-second' },
      { name: 'every-2s', job: 'tick', cron: '*/2 * * * * *', ownerId: 'every-2s', timezone: 'Asia/Kolkata' },
    ];
    const schedules = app.get(ManagedSchedulesService);
    const first = new Map<string, Date>();
    for (const def of defs) first.set(def.name, (await schedules.upsert(def)).nextRunAt!);

    const children = await startScheduleProcesses(count, scheduleEnv(db, defs, { NMJ_POLL_INTERVAL_MS: '200' }), `${dialect}-`);
    const readyAt = Date.now();
    await sleep(8000);
    for (const def of defs) await schedules.disable(def.name);
    await sleep(1500); // every ticker sees it within about a second
    await Promise.all(children.map((c) => c.stop()));

    const ds = app.get(DataSource);
    const figures: Record<string, unknown> = {};
    for (const def of defs) {
      const record = (await schedules.find(def.name))!;
      const expected = occurrences(def.cron, first.get(def.name)!, record.lastRunAt!);
      const jobs = await jobsOf(ds, dialect, def.ownerId as string);
      expect(jobs).toHaveLength(expected.length);
      expect(jobs.length).toBeGreaterThanOrEqual(def.name === 'every-second' ? 6 : 3);
      // Once every process was up, each occurrence was dispatched within about a second.
      const late = jobs
        .map((j, i) => ({ occurredAt: expected[i].getTime(), lateMs: j.createdAt.getTime() - expected[i].getTime() }))
        .filter((j) => j.occurredAt > readyAt + 1000);
      expect(late.length).toBeGreaterThan(0);
      for (const j of late) expect(j.lateMs).toBeLessThan(1500);
      expect(jobs.every((j) => j.status === JobStatus.Completed || j.status === JobStatus.Pending)).toBe(true);
      figures[def.name] = { jobs: jobs.length, occurrences: expected.length, maxLateMs: Math.max(...late.map((j) => j.lateMs)) };
    }
    const errors = children.flatMap((c) => c.lines.filter((l) => /error|locked|SQLITE_BUSY/i.test(l)));
    log(`${dialect}, ${count} processes`, { ...figures, errors: errors.length });
    expect(errors).toEqual([]);
  }, 180_000);
});
