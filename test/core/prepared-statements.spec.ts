import { Injectable, type INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJob, type ManagedJobHandler } from '../../lib/index.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { JOB_STORE } from '../../lib/managed-jobs.constants.js';
import type { JobStore } from '../../lib/store/job-store.interface.js';

@Injectable()
@ManagedJob({ name: 'prepared-probe' })
class PreparedProbeJob implements ManagedJobHandler<{ n: number }, number> {
  async handle(ctx: { payload: { n: number } }) {
    return ctx.payload.n * 2;
  }
}

/** The queue's statements are prepared once per pooled connection on PostgreSQL (see PostgresConnection.query). */
describe('prepared statements (PostgreSQL)', () => {
  let db: TestDatabase;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.drop();
  });

  /** Names of the statements prepared on the pool's connections (node-postgres keeps them per client). */
  const preparedNames = (app: INestApplication): string[] => {
    const pool = (app.get(DataSource).driver as any).master;
    return pool._clients.flatMap((client: any) => Object.keys(client.connection?.parsedStatements ?? client.parsedStatements ?? {}));
  };

  const runJobs = async (app: INestApplication, count: number) => {
    const runner = app.get(JobRunnerService);
    const jobs = await Promise.all(Array.from({ length: count }, (_, n) => runner.dispatch(PreparedProbeJob, { n })));
    await waitFor(async () => {
      const states = await Promise.all(jobs.map((j) => runner.find(j.jobId)));
      return states.every((j) => j?.status === JobStatus.Completed);
    });
    return Promise.all(jobs.map((j) => runner.find(j.jobId)));
  };

  it('keeps working when the table changes under statements already prepared', async () => {
    const app = await createTestApp(db, { providers: [PreparedProbeJob] });
    apps.push(app);
    await runJobs(app, 10);
    const store = app.get<JobStore>(JOB_STORE);
    // Many claims at once: every pooled connection prepares the claim (`RETURNING j.*`).
    const claimEverywhere = () => Promise.all(Array.from({ length: 30 }, () => store.claim({ queue: 'no-such-queue', types: ['prepared-probe'], limit: 1, workerId: 'probe', leaseMs: 1000 })));
    await claimEverywhere();
    expect(preparedNames(app).filter((n) => n.startsWith('nmj_')).length).toBeGreaterThan(0);
    // A deploy adds a column while this worker runs: "cached plan must not change result type".
    await app.get(DataSource).query(`ALTER TABLE managed_jobs ADD COLUMN added_by_a_migration text`);
    try {
      await expect(claimEverywhere()).resolves.toHaveLength(30);
      const after = await runJobs(app, 20);
      expect(after.map((j) => j!.result)).toEqual(Array.from({ length: 20 }, (_, n) => n * 2));
    } finally {
      await app.get(DataSource).query(`ALTER TABLE managed_jobs DROP COLUMN added_by_a_migration`);
    }
  });

  it('runs with preparedStatements: false (for PgBouncer in transaction mode)', async () => {
    const app = await createTestApp(db, { providers: [PreparedProbeJob], migrate: false, options: { postgres: { preparedStatements: false } } });
    apps.push(app);
    const done = await runJobs(app, 10);
    expect(done.map((j) => j!.result)).toEqual(Array.from({ length: 10 }, (_, n) => n * 2));
    expect(preparedNames(app).filter((n) => n.startsWith('nmj_'))).toEqual([]);
  });
});
