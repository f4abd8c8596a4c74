/**
 * `stats()` and the `total` of `listJobs()` are exact, read from either of two apps ("processes")
 * on one database, after dispatch, runs that end, retry, delete, prune and clearQueue done by the
 * other one, and once the ended jobs have moved into the counts table (the watermark passed them).
 * The truth is a full count of the table.
 */
import type { INestApplication } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJobsMaintenanceService, ManagedJobsOperatorService, type OperatorJobQuery } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { operatorJobs } from './operator-jobs.js';

const COUNTED = ['pending', 'waiting', 'running', 'completed', 'failed', 'stopped'] as const;

describe.each(dialects)('exact stats() and listJobs() totals on %s', (dialect) => {
  let db: TestDatabase;
  let one: INestApplication;
  let two: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    one = await createTestApp(db, { providers: operatorJobs, options: { worker: { queues: ['default', 'mail'] } } });
    two = await createTestApp(db, { providers: operatorJobs, options: { worker: { enabled: false } } });
  });

  afterAll(async () => {
    await two?.close();
    await one?.close();
    await db?.drop();
  });

  async function truth(where = 'true'): Promise<Record<string, number>> {
    const rows = await one.get(DataSource).query(`SELECT queue, status, count(*) AS n FROM managed_jobs WHERE ${where} GROUP BY queue, status`);
    return Object.fromEntries(rows.map((r: any) => [`${r.queue}/${r.status}`, Number(r.n)]));
  }

  async function expectExact(): Promise<void> {
    const expected = await truth();
    for (const app of [one, two]) {
      const stats = await app.get(ManagedJobsOperatorService).stats();
      const got: Record<string, number> = {};
      for (const q of stats.queues) for (const s of COUNTED) if (q[s]) got[`${q.queue}/${s}`] = q[s];
      expect(got).toEqual(expected);
    }
    const queries: Array<[OperatorJobQuery, string]> = [
      [{}, 'true'],
      [{ status: JobStatus.Failed }, `status = 'failed'`],
      [{ status: JobStatus.Completed, queue: 'mail' }, `status = 'completed' AND queue = 'mail'`],
      [{ queue: 'default' }, `queue = 'default'`],
      [{ queue: 'default', type: 'op-fail' }, `queue = 'default' AND type = 'op-fail'`],
      [{ type: 'op-echo', status: JobStatus.Pending }, `type = 'op-echo' AND status = 'pending'`],
    ];
    for (const [query, where] of queries) {
      const total = Object.values(await truth(where)).reduce((n, x) => n + x, 0);
      expect([query, (await two.get(ManagedJobsOperatorService).listJobs(query)).meta.total]).toEqual([query, total]);
    }
  }

  it('after every kind of change, from either app', async () => {
    const runner = one.get(JobRunnerService);
    const other = two.get(JobRunnerService);
    const echoes = await other.dispatchMany('op-echo', Array.from({ length: 6 }, (_, i) => ({ payload: { value: i }, options: { queue: i % 2 ? 'mail' : 'default' } })));
    const fails = await other.dispatchMany('op-fail', Array.from({ length: 3 }, () => ({ payload: {} })));
    for (const j of [...echoes, ...fails]) await runner.waitFor(j.jobId, { timeoutMs: 20_000 });
    const held = await other.dispatchMany('op-echo', Array.from({ length: 4 }, () => ({ payload: {}, options: { queue: 'nobody-listens' } })));
    await expectExact();

    await sleep(dialect === 'mariadb' ? 7_600 : 2_300); // the watermark passes these ends: they move into the counts table
    await expectExact();
    const moved = await one.get(DataSource).query(`SELECT sum(n) AS n FROM managed_job_ended_counts`);
    expect(Number(moved[0].n)).toBe(9);

    const operator = two.get(ManagedJobsOperatorService);
    expect(await operator.retry({ jobIds: [fails[0].jobId] })).toEqual({ count: 1 });
    await runner.waitFor(fails[0].jobId, { timeoutMs: 20_000 }); // fails again, anew
    await expectExact();
    expect(await operator.delete({ status: 'failed', queue: 'default', jobIds: [fails[1].jobId] })).toEqual({ count: 1 });
    await expectExact();
    expect(await operator.clearQueue('nobody-listens')).toEqual({ count: held.length });
    await expectExact();
    // prune: everything finished more than 0 days ago
    expect(await two.get(ManagedJobsMaintenanceService).pruneFinished(0)).toBe(8);
    await expectExact();
    expect(await truth()).toEqual({});
  }, 60_000);
});
