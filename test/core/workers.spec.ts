import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJobEntity } from '../../lib/index.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { allJobs, CountedJob, LongJob, Probe, userA } from '../fixtures/jobs.js';

describe.each(['postgres', 'mariadb'] as const)('two worker apps on one %s database', (dialect) => {
  let db: TestDatabase;
  let apps: INestApplication[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    for (let i = 0; i < 2; i++) {
      apps.push(await createTestApp(db, { providers: allJobs, options: { worker: { concurrency: 5, id: `app-${i}` } } }));
    }
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db.drop();
  });

  it('share 1,000 jobs: each runs exactly once, never more than 5 at once per app', async () => {
    const runner = apps[0].get(JobRunnerService);
    const probes = apps.map((app) => app.get(Probe));
    const jobs = await runner.dispatchMany(
      CountedJob,
      Array.from({ length: 1000 }, (_, i) => ({ payload: { ms: i % 7 }, options: { owner: userA } })),
    );
    expect(jobs).toHaveLength(1000);
    await waitFor(() => probes.reduce((n, p) => n + p.runs.length, 0) >= 1000, { timeoutMs: 60_000 });
    const repo = apps[0].get(DataSource).getRepository(ManagedJobEntity);
    await waitFor(async () => (await repo.countBy({ status: JobStatus.Completed })) === 1000, { timeoutMs: 30_000 });

    const runs = probes.flatMap((p) => p.runs.map((r) => r.jobId));
    expect(runs).toHaveLength(1000);
    expect(new Set(runs).size).toBe(1000);
    expect(probes.every((p) => p.runs.length > 0)).toBe(true); // both apps took part
    expect(Math.max(...probes.map((p) => p.maxConcurrent))).toBeLessThanOrEqual(5);
    const rows = await repo.find();
    expect(rows.every((r) => r.attempts === 1 && r.fence === 1)).toBe(true);
  });
});

describe.each(['postgres', 'sqlite', 'mariadb'] as const)('wake-ups across processes on %s', (dialect) => {
  it('a worker with a one-minute poll starts a job dispatched by a web-only app at once (NOTIFY / data_version / wake-up poll)', async () => {
    const db = await createTestDatabase(dialect);
    const worker = await createTestApp(db, { providers: allJobs, options: { worker: { pollIntervalMs: 60_000 } } });
    const web = await createTestApp(db, { providers: allJobs, migrate: false, options: { worker: { enabled: false } } });
    try {
      await new Promise((r) => setTimeout(r, 300)); // the worker's first (bootstrap) claim has passed
      const dispatchedAt = Date.now();
      const job = await web.get(JobRunnerService).dispatch(CountedJob, {}, { owner: userA });
      await waitFor(() => worker.get(Probe).runsOf(job.jobId).length === 1, { timeoutMs: 5000 });
      const latencyMs = worker.get(Probe).runsOf(job.jobId)[0].at - dispatchedAt;
      process.stderr.write(`\n[wake-up] ${dialect}: started ${latencyMs} ms after dispatch by another app\n`);
      expect(latencyMs).toBeLessThan(1000);
      expect(web.get(Probe).runs).toHaveLength(0);
    } finally {
      await web.close();
      await worker.close();
      await db.drop();
    }
  });
});

describe('shutting an app down mid-job', () => {
  let db: TestDatabase;
  afterAll(async () => db.drop());

  it.each(['sqlite', 'postgres', 'mariadb'] as const)('hands the job back on %s, and a later worker completes it', async (dialect) => {
    db = await createTestDatabase(dialect);
    const first = await createTestApp(db, { providers: allJobs, options: { worker: { shutdownTimeoutMs: 300, id: 'first' } } });
    const runner = first.get(JobRunnerService);
    const job = await runner.dispatch(LongJob, { maxMs: 4000 }, { owner: userA });
    await waitFor(async () => (await runner.find(job.jobId))?.status === JobStatus.Running);
    await first.close();

    const handedBack = await findRecord(db, job.jobId);
    expect(handedBack.status).toBe(JobStatus.Pending);
    expect(handedBack.attempts).toBe(0); // the interrupted run does not use up a try
    expect(handedBack.leaseOwner).toBeNull();

    const second = await createTestApp(db, { providers: allJobs, migrate: false, options: { worker: { id: 'second' } } });
    try {
      const done = await waitFor(async () => {
        const j = await second.get(JobRunnerService).find(job.jobId);
        return j?.status === JobStatus.Completed ? j : null;
      }, { timeoutMs: 15_000 });
      expect(done.result).toEqual({ ticks: expect.any(Number) });
      expect(second.get(Probe).runsOf(job.jobId)).toHaveLength(1);
      const ledger = await second.get(DataSource).query(`SELECT worker_id, outcome FROM managed_job_attempts WHERE job_id = '${job.jobId}' ORDER BY fence`);
      expect(ledger).toEqual([
        { worker_id: 'first', outcome: 'released' },
        { worker_id: 'second', outcome: 'completed' },
      ]);
    } finally {
      await second.close();
      await db.drop();
    }
  });
});

async function findRecord(db: TestDatabase, jobId: string): Promise<ManagedJobEntity> {
  const ds = new DataSource({ ...db.typeorm, entities: [ManagedJobEntity] } as any);
  await ds.initialize();
  try {
    return (await ds.getRepository(ManagedJobEntity).findOneByOrFail({ jobId }));
  } finally {
    await ds.destroy();
  }
}
