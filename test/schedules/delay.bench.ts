/**
 * The figure for durable schedules: delay from an occurrence's time to its job's start, with
 * 3 worker processes on PostgreSQL, 5 schedules firing every second, for BENCH_SECONDS (90).
 * Not part of `npm test` (it is not a *.spec.ts); run it with:
 *
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
 *     --testMatch '**' '/test/schedules/delay.bench.ts' -- test/schedules/delay.bench.ts
 *
 * (the testMatch is `**` + `/test/schedules/delay.bench.ts`, written apart here only because a
 * block comment cannot hold the two characters together). It prints p50 / p90 / p99 / max of
 * occurrence → job written (dispatch) and occurrence → job started (start).
 */
import type { INestApplication } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { ManagedSchedulesService, type ScheduleDefinition } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { jobsOf, occurrences } from './schedule-helpers.js';
import { scheduleJobs } from './schedule-jobs.js';
import { scheduleEnv, startScheduleProcesses, stopAll } from './schedule-processes.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 90);
const PROCESSES = 3;
const SCHEDULES = 5;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summary = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s.at(-1) };
};

describe('schedule delay (bench)', () => {
  let db: TestDatabase;
  let app: INestApplication;

  afterAll(async () => {
    await stopAll();
    await app?.close();
    await db?.drop();
  });

  it(`occurrence → job start with ${PROCESSES} processes on PostgreSQL over ${SECONDS} s`, async () => {
    db = await createTestDatabase('postgres');
    app = await createTestApp(db, { providers: scheduleJobs, options: { worker: { enabled: false } } });
    const defs: ScheduleDefinition[] = Array.from({ length: SCHEDULES }, (_, i) => ({ name: `bench-${i}`, job: 'tick', cron: '* * * * * *', ownerId: `bench-${i}`, enabled: false }));
    const children = await startScheduleProcesses(PROCESSES, scheduleEnv(db, defs, { NMJ_POLL_INTERVAL_MS: '1000' }), 'bench-');
    const schedules = app.get(ManagedSchedulesService);
    const first = new Map<string, Date>();
    for (const def of defs) first.set(def.name, (await schedules.enable(def.name)).nextRunAt!);
    await sleep(SECONDS * 1000);
    for (const def of defs) await schedules.disable(def.name);
    await sleep(1500);
    const ds = app.get(DataSource);
    const dispatch: number[] = [];
    const start: number[] = [];
    let exact = true;
    for (const def of defs) {
      const record = (await schedules.find(def.name))!;
      const expected = occurrences(def.cron, first.get(def.name)!, record.lastRunAt!);
      const jobs = await waitFor(async () => {
        const all = await jobsOf(ds, 'postgres', def.ownerId as string);
        return all.every((j) => j.startedAt) && all;
      });
      if (jobs.length !== expected.length) exact = false;
      jobs.forEach((j, i) => {
        dispatch.push(j.createdAt.getTime() - expected[i].getTime());
        start.push(j.startedAt!.getTime() - expected[i].getTime());
      });
    }
    await Promise.all(children.map((c) => c.stop()));
    const figure = { processes: PROCESSES, schedules: SCHEDULES, seconds: SECONDS, oneJobPerOccurrence: exact, dispatchMs: summary(dispatch), startMs: summary(start) };
    process.stderr.write(`\n[schedules bench] ${JSON.stringify(figure)}\n`);
    expect(exact).toBe(true);
  }, (SECONDS + 240) * 1000);
});
