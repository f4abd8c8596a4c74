/**
 * Unique jobs, concurrency keys and rate limits across real processes: 3 worker processes on
 * PostgreSQL, 2 on one SQLite file, 2 on MariaDB (test/reliability/worker-app.mjs with the jobs of
 * ./queue-worker-jobs.mjs). Exactly-once and never-more-than-N are asserted exactly: from the
 * database (every job's row, `started_at`, and running counts sampled all along) and from the
 * handlers' own start/end times (one host, one clock).
 */
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, waitFor, type Dialect, type TestDatabase } from '../support/databases.js';
import { EFFECTS_TABLE } from '../support/audit.js';
import { buildLibrary, databaseEnv, killAllWorkers, startWorkers, type WorkerEnv, type WorkerProcess } from '../support/processes.js';
import { maxOverlap, maxStartsInWindow, processJobs, type RunRecord } from './queue-jobs.js';

const log = (label: string, figures: unknown) => process.stderr.write(`\n[queue-control processes] ${label}: ${JSON.stringify(figures)}\n`);

const setups: Array<[Dialect, number]> = [
  ['postgres', 3],
  ['sqlite', 2],
  ['mariadb', 2],
];

describe.each(setups)('queue control across processes on %s (%i processes)', (dialect, processes) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let ds: DataSource;
  let env: WorkerEnv;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: processJobs, options: { worker: { enabled: false } } });
    runner = app.get(JobRunnerService);
    ds = app.get(DataSource);
    await ds.query(EFFECTS_TABLE[dialect]); // worker-jobs.mjs opens it at start
    env = {
      NMJ_LIBRARY: buildLibrary(),
      NMJ_LOG_LEVELS: 'warn,error',
      NMJ_CONCURRENCY: 6,
      NMJ_POLL_INTERVAL_MS: 200,
      ...databaseEnv(db),
    };
  }, 120_000);

  afterEach(() => killAllWorkers());
  afterAll(async () => {
    await killAllWorkers();
    await app?.close();
    await db?.drop();
  });

  const runsOf = (workers: WorkerProcess[], name: string): RunRecord[] =>
    workers.flatMap((w) => w.messages.filter((m) => m.type === 'run' && m.name === name).map((m) => ({ type: name, key: m.key, jobId: m.jobId, start: m.start, end: m.end })));
  const finished = (type: string) => ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE type = '${type}' AND status = 'completed'`).then((r) => Number(r[0].n));

  it('unique: every process dispatching one key at once gets the same job, and one row is written', async () => {
    const workers = await startWorkers(processes, { ...env, NMJ_RACE_KEY: 'invoice-42', NMJ_RACE_COUNT: 10, NMJ_RACE_AT: Date.now() + 6000 }, `${dialect[0]}u`);
    const races = await waitFor(() => {
      const got = workers.flatMap((w) => w.messages.filter((m) => m.type === 'race' || m.type === 'race-error'));
      return got.length === processes ? got : null;
    }, { timeoutMs: 60_000 });
    expect(races.filter((m) => m.type === 'race-error')).toEqual([]);
    const ids = races.flatMap((m) => m.jobIds as string[]);
    expect(ids).toHaveLength(processes * 10);
    expect(new Set(ids).size).toBe(1);
    expect(Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE type = 'q-unique'`))[0].n)).toBe(1);
  }, 120_000);

  it('concurrency: never more than 2 running per key across processes (sampled from the database and from the handlers)', async () => {
    const workers = await startWorkers(processes, env, `${dialect[0]}c`);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const perKey = 12;
    await runner.dispatchMany('q-per-key', keys.flatMap((key) => Array.from({ length: perKey }, () => ({ payload: { key, ms: 150 } }))));
    let samples = 0;
    let maxRunning = 0;
    const total = keys.length * perKey;
    await waitFor(
      async () => {
        const rows = await ds.query(`SELECT concurrency_key AS k, count(*) AS n FROM managed_jobs WHERE type = 'q-per-key' AND status = 'running' GROUP BY concurrency_key`);
        samples++;
        for (const r of rows) maxRunning = Math.max(maxRunning, Number(r.n));
        // every run reported on stdout too (the pipe may lag the database)
        return (await finished('q-per-key')) === total && runsOf(workers, 'q-per-key').length === total;
      },
      { timeoutMs: 90_000, intervalMs: 2 },
    );
    const runs = runsOf(workers, 'q-per-key');
    const overlap = Math.max(...maxOverlap(runs).values());
    const perWorker = workers.map((w) => runsOf([w], 'q-per-key').length);
    log(`${dialect}: concurrency 2 per key, ${keys.length} keys × ${perKey}`, { samples, maxRunningSampled: maxRunning, maxHandlerOverlap: overlap, perWorker });
    expect(runs).toHaveLength(total);
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(total);
    expect(maxRunning).toBeLessThanOrEqual(2);
    expect(overlap).toBeLessThanOrEqual(2);
    expect(overlap).toBe(2); // the limit is used, not just respected
    // 150 ms runs keep the queue busy for several poll intervals, so every process gets a share
    // (one process may take at most NMJ_CONCURRENCY = 6 of the 10 key slots at once)
    expect(perWorker.filter((n) => n > 0).length).toBeGreaterThan(1);
  }, 120_000);

  it('rate limit: at most 5 starts per key in any 1 s window across processes, and the queue keeps going at that rate', async () => {
    const workers = await startWorkers(processes, env, `${dialect[0]}r`);
    const perKey = 14;
    const dispatchedAt = Date.now();
    await runner.dispatchMany('q-rate', ['x', 'y'].flatMap((key) => Array.from({ length: perKey }, () => ({ payload: { key } }))));
    await waitFor(async () => (await finished('q-rate')) === 2 * perKey, { timeoutMs: 60_000, intervalMs: 50 });
    const rows: Array<{ key: string; started: unknown; attempts: number }> = await ds.query(
      `SELECT rate_key AS "key", started_at AS started, attempts FROM managed_jobs WHERE type = 'q-rate'`.replace(/"/g, dialect === 'mariadb' ? '`' : '"'),
    );
    const toMs = (v: unknown) => (v instanceof Date ? v.getTime() : Date.parse(`${String(v).replace(' ', 'T')}Z`));
    const starts = rows.map((r) => ({ key: r.key, start: toMs(r.started) }));
    const span = Math.max(...starts.map((s) => s.start)) - Math.min(...starts.map((s) => s.start));
    log(`${dialect}: 5 per second per key, 2 keys × ${perKey}`, { spanMs: span, elapsedMs: Date.now() - dispatchedAt, workers: workers.map((w) => runsOf([w], 'q-rate').length) });
    expect(rows.every((r) => Number(r.attempts) === 1)).toBe(true);
    expect(maxStartsInWindow(starts, 1000)).toBe(5);
    // 14 per key at 5 per second: windows open at +1 s and +2 s
    expect(span).toBeGreaterThanOrEqual(2000);
    expect(span).toBeLessThan(4500);
  }, 120_000);
});
