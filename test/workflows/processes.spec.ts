/**
 * Batches across real processes: 3 worker processes on PostgreSQL, 2 on one SQLite file, 2 on
 * MariaDB (test/reliability/worker-app.mjs with the jobs of ./workflow-worker-jobs.mjs), members
 * of a few milliseconds so that many end at the same moment in different processes. Asserted
 * exactly, from the database and from the handlers' reports: every member ran once, every
 * batch's counters equal what its members' rows say, and `then` / `catch` / `finally` were each
 * dispatched (one row) and run once per batch.
 */
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BatchStatus, JobRunnerService, type BatchRecord } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, waitFor, type Dialect, type TestDatabase } from '../support/databases.js';
import { EFFECTS_TABLE } from '../support/audit.js';
import { buildLibrary, databaseEnv, killAllWorkers, startWorkers, type WorkerEnv } from '../support/processes.js';
import { CallbackJob, StepJob, workflowJobs } from './workflow-jobs.js';

const setups: Array<[Dialect, number, number]> = [
  // dialect, processes, members per batch
  ['postgres', 3, 120],
  ['sqlite', 2, 80],
  ['mariadb', 2, 80],
];

const callbacks = {
  then: { job: CallbackJob, payload: { kind: 'then' } },
  catch: { job: CallbackJob, payload: { kind: 'catch' } },
  finally: { job: CallbackJob, payload: { kind: 'finally' } },
};

describe.each(setups)('batches across processes on %s (%i processes)', (dialect, processes, size) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let ds: DataSource;
  let env: WorkerEnv;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: workflowJobs, options: { worker: { enabled: false } } });
    runner = app.get(JobRunnerService);
    ds = app.get(DataSource);
    await ds.query(EFFECTS_TABLE[dialect]); // worker-jobs.mjs opens it at start
    env = {
      NMJ_LIBRARY: buildLibrary(),
      NMJ_LOG_LEVELS: 'warn,error',
      NMJ_CONCURRENCY: 8,
      NMJ_POLL_INTERVAL_MS: 100,
      ...databaseEnv(db),
    };
  }, 120_000);

  afterAll(async () => {
    await killAllWorkers();
    await app?.close();
    await db?.drop();
  });

  it('counts every member once and dispatches then / catch / finally exactly once each, whoever ends the last member', async () => {
    const workers = await startWorkers(processes, env, `${dialect[0]}b`);
    // Two clean batches, one DAG-shaped (a fan-in after a fan-out), one with failures under `continue`.
    const plain = await runner.batch(
      Array.from({ length: size }, (_, i) => ({ job: StepJob, payload: { name: `p${i}`, ms: i % 7 } })),
      { name: 'plain', ...callbacks },
    );
    const fan = await runner.batch(
      [
        { job: StepJob, payload: { name: 'root' }, key: 'root' },
        ...Array.from({ length: size - 2 }, (_, i) => ({ job: StepJob, payload: { name: `f${i}`, ms: i % 5 }, key: `f${i}`, dependsOn: ['root'] })),
        { job: StepJob, payload: { name: 'join' }, key: 'join', dependsOn: Array.from({ length: size - 2 }, (_, i) => `f${i}`) },
      ],
      { name: 'fan', ...callbacks },
    );
    const failing = await runner.batch(
      Array.from({ length: size }, (_, i) => ({ job: StepJob, payload: { name: `c${i}`, ms: i % 3, fail: i % 10 === 3 } })),
      { name: 'continue', failurePolicy: 'continue', ...callbacks },
    );
    const batches: Array<[BatchRecord, BatchStatus, number]> = [
      [plain, BatchStatus.Completed, 0],
      [fan, BatchStatus.Completed, 0],
      [failing, BatchStatus.Partial, size / 10],
    ];
    for (const [batch, status, failed] of batches) {
      const done = await waitFor(async () => {
        const b = await runner.findBatch(batch.batchId);
        return b && b.status !== BatchStatus.Running ? b : null;
      }, { timeoutMs: 90_000 });
      expect(done).toMatchObject({ status, total: size, completed: size - failed, failed, stopped: 0, pending: 0, running: 0, progress: 100 });
      // The counters agree with the members' rows.
      const rows = await ds.query(`SELECT status, count(*) AS n FROM managed_jobs WHERE batch_id = '${batch.batchId}' GROUP BY status`);
      const byStatus = Object.fromEntries(rows.map((r: any) => [r.status, Number(r.n)]));
      expect(byStatus).toEqual(failed ? { completed: size - failed, failed } : { completed: size });
      // One row per callback.
      const cb = await ds.query(`SELECT payload FROM managed_jobs WHERE callback_batch_id = '${batch.batchId}'`);
      const kinds = cb.map((r: any) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload).kind).sort();
      expect(kinds).toEqual(failed ? ['catch', 'finally'] : ['finally', 'then']);
    }
    // Every member ran exactly once, and every callback ran exactly once, somewhere.
    await waitFor(() => workers.flatMap((w) => w.messages.filter((m) => m.type === 'wf-callback')).length >= 6, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const runs = workers.flatMap((w) => w.messages.filter((m) => m.type === 'wf-run'));
    expect(runs).toHaveLength(size * 3);
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(size * 3);
    const ran = workers.map((w) => w.messages.filter((m) => m.type === 'wf-run').length);
    expect(ran.filter((n) => n > 0).length).toBeGreaterThan(1); // the work was shared
    const cbRuns = workers.flatMap((w) => w.messages.filter((m) => m.type === 'wf-callback'));
    expect(cbRuns.map((m) => `${m.batchId}:${m.kind}`).sort()).toEqual(
      [`${plain.batchId}:finally`, `${plain.batchId}:then`, `${fan.batchId}:finally`, `${fan.batchId}:then`, `${failing.batchId}:catch`, `${failing.batchId}:finally`].sort(),
    );
    // The join ran after every one of its dependencies.
    const fanRuns = runs.filter((r) => r.batchId === fan.batchId);
    expect(fanRuns.findIndex((r) => r.name === 'join')).toBeGreaterThanOrEqual(0);
    expect(Math.max(...fanRuns.filter((r) => r.name !== 'join').map((r) => r.at))).toBeLessThanOrEqual(fanRuns.find((r) => r.name === 'join')!.at);
    process.stderr.write(`\n[workflow processes] ${dialect}: runs per process ${JSON.stringify(ran)}\n`);
  }, 180_000);
});
