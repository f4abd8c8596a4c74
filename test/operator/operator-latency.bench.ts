/**
 * The figure for the operator: latency of `stats()` and of filtered `listJobs()` on a table of
 * 1,000,000 jobs (BENCH_JOBS), and of an owner's `JobRunnerService.list()` (1,000 jobs per owner),
 * on each dialect of BENCH_DIALECTS (default sqlite,postgres,mariadb).
 * Not part of `npm test` (it is not a *.spec.ts); run it with:
 *
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
 *     --testMatch '**' '/test/operator/operator-latency.bench.ts' -- test/operator/operator-latency.bench.ts
 *
 * (the testMatch is `**` + `/test/operator/…`, written apart only because a block comment cannot
 * hold the two characters together). The jobs are written by one SQL statement per dialect: 5
 * queues, 7 types, 1,000 owners, 90% completed, 5% failed, 2% pending, 1% running, 2% stopped
 * (BENCH_LAYOUT below says where the live ones are); the table is analysed
 * (and on PostgreSQL vacuumed, as autovacuum would) before measuring. Prints p50 / p95 / max (ms).
 */
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJobsOperatorService } from '../../lib/index.js';
import { jobCounts } from '../../lib/store/postgres/ended-counts.sql.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, type Dialect, type TestDatabase } from '../support/databases.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres,mariadb').split(',') as Dialect[];

/**
 * BENCH_LAYOUT=spread (default): status of row i by i % 100: 90% completed, 5% failed, 2% pending,
 * 1% running, 2% stopped, so live rows are spread over every page of the table (the hardest case
 * for counting them). BENCH_LAYOUT=recent: as a real queue fills, the newest 2% are pending and the
 * 1% before them running; the older 97% ended (in the same 90:5:2 mix), and only those have a
 * `finished_at`.
 */
const RECENT = process.env.BENCH_LAYOUT === 'recent';

const STATUS_CASE = (i: string, n: number) =>
  RECENT
    ? `CASE WHEN ${i} > ${n * 0.98} THEN 'pending' WHEN ${i} > ${n * 0.97} THEN 'running'
      WHEN ${i} % 97 < 90 THEN 'completed' WHEN ${i} % 97 < 95 THEN 'failed' ELSE 'stopped' END`
    : `CASE WHEN ${i} % 100 < 90 THEN 'completed' WHEN ${i} % 100 < 95 THEN 'failed'
      WHEN ${i} % 100 < 97 THEN 'pending' WHEN ${i} % 100 < 98 THEN 'running' ELSE 'stopped' END`;

/** Running rows hold a lease, as every claimed job does. */
const LEASED = (i: string, until: string, n: number) =>
  RECENT ? `CASE WHEN ${i} > ${n * 0.97} AND ${i} <= ${n * 0.98} THEN ${until} END` : `CASE WHEN ${i} % 100 >= 97 AND ${i} % 100 < 98 THEN ${until} END`;

/** `finished_at`: on every row (spread), or on ended rows only (recent). */
const FINISHED = (i: string, at: string, n: number) => (RECENT ? `CASE WHEN ${i} <= ${n * 0.97} THEN ${at} END` : at);

const COLUMNS = `job_id, type, queue, status, priority, payload, available_at, created_at, updated_at, finished_at, attempts, max_attempts, lease_expires_at, owner_user_id`;

const FILL: Record<Dialect, (n: number) => string> = {
  postgres: (n) => {
    const ago = `now() - make_interval(secs => ${n} - i)`;
    return `INSERT INTO managed_jobs (${COLUMNS})
    SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'type-' || (i % 7), 'q' || (i % 5), ${STATUS_CASE('i', n)}, 0, '{}'::jsonb,
      ${ago}, ${ago}, now(), ${FINISHED('i', ago, n)}, 1, 1, ${LEASED('i', "now() + interval '1 hour'", n)}, 'user-' || (i % 1000)
    FROM generate_series(1, ${n}) AS s(i)`;
  },
  sqlite: (n) => {
    const ago = `strftime('%Y-%m-%d %H:%M:%f', 'now', printf('-%d seconds', ${n} - i))`;
    return `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})
    INSERT INTO managed_jobs (${COLUMNS})
    SELECT printf('01900000-0000-7000-8000-%012x', i), 'type-' || (i % 7), 'q' || (i % 5), ${STATUS_CASE('i', n)}, 0, '{}',
      ${ago}, ${ago}, strftime('%Y-%m-%d %H:%M:%f', 'now'), ${FINISHED('i', ago, n)}, 1, 1,
      ${LEASED('i', "strftime('%Y-%m-%d %H:%M:%f', 'now', '+1 hour')", n)}, 'user-' || (i % 1000) FROM s`;
  },
  mariadb: (n) => {
    const ago = `UTC_TIMESTAMP(3) - INTERVAL (${n} - seq) SECOND`;
    return `INSERT INTO managed_jobs (${COLUMNS})
    SELECT CONCAT('01900000-0000-7000-8000-', LPAD(HEX(seq), 12, '0')), CONCAT('type-', seq % 7), CONCAT('q', seq % 5), ${STATUS_CASE('seq', n)}, 0, '{}',
      ${ago}, ${ago}, UTC_TIMESTAMP(3), ${FINISHED('seq', ago, n)}, 1, 1,
      ${LEASED('seq', 'UTC_TIMESTAMP(3) + INTERVAL 1 HOUR', n)}, CONCAT('user-', seq % 1000) FROM seq_1_to_${n}`;
  },
};

const ANALYSE: Record<Dialect, string[]> = {
  postgres: ['VACUUM ANALYZE managed_jobs'],
  sqlite: ['ANALYZE'],
  mariadb: ['ANALYZE TABLE managed_jobs'],
};

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number; max: number }> {
  for (let i = 0; i < 3; i++) await fn(); // warm
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(pct(times, 50)), p95: r(pct(times, 95)), max: r(times.at(-1)!) };
}

describe.each(DIALECTS)('operator latency on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { options: { worker: { enabled: false } } });
    const ds = app.get(DataSource);
    const t = performance.now();
    await ds.query(FILL[dialect](JOBS));
    for (const q of ANALYSE[dialect]) await ds.query(q);
    console.log(`${dialect}: ${JOBS} jobs written and analysed in ${Math.round(performance.now() - t)} ms`);
  }, 1_800_000);

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('measures stats() and filtered listJobs()', async () => {
    const operator = app.get(ManagedJobsOperatorService);
    const runner = app.get(JobRunnerService);
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['stats()', () => operator.stats()],
      ["listJobs({ status: 'failed', queue: 'q1', limit: 50 })", () => operator.listJobs({ status: 'failed', queue: 'q1', limit: 50 })],
      ["listJobs({ status: 'failed', limit: 50 })", () => operator.listJobs({ status: 'failed', limit: 50 })],
      ["listJobs({ status: 'pending', queue: 'q2', page: 20, limit: 50 })", () => operator.listJobs({ status: 'pending', queue: 'q2', page: 20, limit: 50 })],
      ["listJobs({ queue: 'q3', type: 'type-2', limit: 50 })", () => operator.listJobs({ queue: 'q3', type: 'type-2', limit: 50 })],
      ['listJobs({ limit: 50 })', () => operator.listJobs({ limit: 50 })],
      // An owner's own list (1,000 jobs per owner): the owner index, newest first.
      ["runner.list({ ownerId: 'user-7' })", () => runner.list({ ownerId: 'user-7' })],
      ["runner.list({ ownerId: 'user-7', status: 'failed' })", () => runner.list({ ownerId: 'user-7', status: JobStatus.Failed })],
      ["runner.list({ ownerId: 'user-7', page: 10 })", () => runner.list({ ownerId: 'user-7', page: 10 })],
    ];
    if (process.env.BENCH_EXPLAIN && dialect === 'postgres') {
      // BENCH_EXPLAIN=1: the plan of stats()'s counting statement, to see which index each part reads.
      const ds = app.get(DataSource);
      await operator.stats(); // moves the watermark
      const [{ w }] = await ds.query(`SELECT to_char(watermark, 'YYYY-MM-DD HH24:MI:SS.MS') AS w FROM managed_job_ended_mark WHERE id = 1`);
      const counts = jobCounts(w);
      const plan = await ds.query(`EXPLAIN (ANALYZE, BUFFERS) ${counts.text}`, counts.values);
      console.log(plan.map((r: Record<string, string>) => Object.values(r)[0]).join('\n'));
    }
    const rows: string[] = [];
    // The first stats() after the table filled counts every ended job once (into managed_job_ended_counts).
    const first = performance.now();
    await operator.stats();
    rows.push(`${dialect.padEnd(9)} ${'stats(), first call (counts the ended jobs once)'.padEnd(66)} ${Math.round(performance.now() - first)} ms`);
    for (const [name, fn] of cases) {
      const m = await measure(fn);
      rows.push(`${dialect.padEnd(9)} ${name.padEnd(66)} p50 ${String(m.p50).padStart(7)} ms  p95 ${String(m.p95).padStart(7)} ms  max ${String(m.max).padStart(7)} ms`);
    }
    console.log(rows.join('\n'));
    expect(rows).toHaveLength(cases.length);
  }, 1_800_000);
});
