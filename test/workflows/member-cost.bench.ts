/**
 * What a batch member's run end costs against a plain job's, in our own engine (issue 13 asks for
 * ≥ 0.7×): drain N plain jobs, then N members in batches of 10 (BENCH_BATCH_SIZE), and one batch
 * of N, each with `concurrency` 10, on each dialect of BENCH_DIALECTS; prints jobs/s and ratios.
 * Not part of `npm test` (not a *.spec.ts); run it with:
 *
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
 *     --testMatch '**' '/test/workflows/member-cost.bench.ts' -- test/workflows/member-cost.bench.ts
 *
 * A plain job's completion goes out with the claim loop's next statement (unchanged: the run
 * executor branches on the claimed row's `batch_id`); a member's is a transaction of its own:
 * lock the batch row, end the run (job row + ledger row), move one counter, look up its direct
 * dependents (an index probe on `managed_job_dependencies`), check for the end, count the
 * batch's running members (a few entries of the batch index).
 */
import type { INestApplication } from '@nestjs/common';
import { BatchStatus, JobRunnerService } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, waitFor, type Dialect, type TestDatabase } from '../support/databases.js';
import { StepJob, workflowJobs } from './workflow-jobs.js';

const N = Number(process.env.BENCH_JOBS ?? 2000);
const SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 10);
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres,mariadb').split(',') as Dialect[];

describe.each(DIALECTS)('batch member cost on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: workflowJobs, options: { worker: { concurrency: 10, pollIntervalMs: 50 } } });
    runner = app.get(JobRunnerService);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('drains plain jobs, members of small batches and one big batch', async () => {
    const drained = async () => waitFor(async () => (await runner.list({ status: ['pending', 'running', 'waiting'] as any, limit: 1 })).meta.total === 0, { timeoutMs: 600_000, intervalMs: 50 });
    let t = Date.now();
    await runner.dispatchMany(StepJob, Array.from({ length: N }, (_, i) => ({ payload: { name: `p${i}` } })));
    await drained();
    const plain = N / ((Date.now() - t) / 1000);

    t = Date.now();
    const batches = [];
    for (let b = 0; b < N / SIZE; b++) batches.push(await runner.batch(Array.from({ length: SIZE }, (_, i) => ({ job: StepJob, payload: { name: `b${b}-${i}` } }))));
    await drained();
    const small = N / ((Date.now() - t) / 1000);
    for (const b of batches.slice(0, 5)) expect((await runner.findBatch(b.batchId))!.status).toBe(BatchStatus.Completed);

    t = Date.now();
    const big = await runner.batch(Array.from({ length: N }, (_, i) => ({ job: StepJob, payload: { name: `big${i}` } })));
    await drained();
    const one = N / ((Date.now() - t) / 1000);
    expect((await runner.findBatch(big.batchId))!.completed).toBe(N);

    const f = (x: number) => Math.round(x);
    process.stderr.write(
      `\n[member cost] ${dialect}: plain ${f(plain)} jobs/s; ${N / SIZE} batches of ${SIZE}: ${f(small)} jobs/s (${(small / plain).toFixed(2)}×); ` +
        `one batch of ${N}: ${f(one)} jobs/s (${(one / plain).toFixed(2)}×)\n`,
    );
  }, 900_000);
});
