import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, InvalidJobPayloadError } from '../../lib/index.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { allJobs, GenerateReportJob, LongJob, userA, userB } from '../fixtures/jobs.js';

/** What a caller gets back from a dispatch must be what is stored (it is built without reading the rows back). */
const RECORD_FIELDS = [
  'jobId', 'type', 'queue', 'status', 'priority', 'payload', 'state', 'result', 'progressPercentage', 'progressMessage',
  'ownerUserId', 'ownerTenantId', 'triggeredByUserId', 'attempts', 'maxAttempts', 'idempotent', 'availableAt',
  'leaseOwner', 'leaseExpiresAt', 'fence', 'failedReason', 'startedAt', 'finishedAt', 'createdAt', 'updatedAt',
] as const;
const record = (job: any) => Object.fromEntries(RECORD_FIELDS.map((f) => [f, job?.[f] instanceof Date ? job[f].toISOString() : job?.[f]]));

describe.each(dialects)('dispatchMany on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: allJobs, options: { worker: { enabled: false } } });
    runner = app.get(JobRunnerService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('stores a uniform batch in order and returns exactly the stored records', async () => {
    // Payloads that JSON and SQL quoting could break: quotes, backslashes, unicode, null, arrays.
    const payloads = [{ maxMs: 1 }, { note: 'a "quoted" \\ back\\slash, {braces}' }, null, { list: [1, 'two', { three: 3 }] }, { emoji: 'é ✓ 🚀' }];
    const many = Array.from({ length: 1000 }, (_, i) => ({ payload: payloads[i % payloads.length] as any, options: { owner: userA, priority: 3 } }));
    const jobs = await runner.dispatchMany(LongJob, many);

    expect(jobs).toHaveLength(1000);
    expect(jobs.map((j) => j.jobId)).toEqual([...jobs.map((j) => j.jobId)].sort()); // FIFO within the batch
    for (const i of [0, 1, 2, 3, 4, 999]) {
      const stored = await runner.find(jobs[i].jobId);
      expect(record(jobs[i])).toEqual(record(stored));
      expect(stored!.payload).toEqual(payloads[i % payloads.length]);
    }
    expect(jobs[0]).toMatchObject({ status: JobStatus.Pending, priority: 3, ownerUserId: 'user-a', attempts: 0, fence: 0 });
  });

  it('keeps per-job options in a mixed batch', async () => {
    const later = new Date(Date.now() + 60_000);
    const jobs = await runner.dispatchMany(LongJob, [
      { payload: { maxMs: 1 }, options: { owner: userA, priority: 1 } },
      { payload: { maxMs: 2 }, options: { owner: userB, priority: 7, queue: 'other' } },
      { payload: { maxMs: 3 }, options: { ownerId: 'solo', availableAt: later } },
      { payload: { maxMs: 4 }, options: { delayMs: 5_000 } },
    ]);
    const stored = await Promise.all(jobs.map((j) => runner.find(j.jobId)));
    expect(jobs.map(record)).toEqual(stored.map(record));
    expect(stored.map((j) => [j!.priority, j!.queue, j!.ownerUserId])).toEqual([
      [1, 'default', 'user-a'],
      [7, 'other', 'user-b'],
      [0, 'default', 'solo'],
      [0, 'default', null],
    ]);
    expect(stored[2]!.availableAt.toISOString()).toBe(later.toISOString());
    expect(stored[3]!.availableAt.getTime() - stored[3]!.createdAt.getTime()).toBeGreaterThanOrEqual(4_990);
  });

  it("returns the stored record through a caller's transaction (TypeORM's connection, not ours)", async () => {
    const [job] = await app.get(DataSource).transaction((manager) => runner.dispatchMany(LongJob, [{ payload: { maxMs: 1 } }], manager));
    expect(record(job)).toEqual(record(await runner.find(job.jobId)));
  });

  it('writes nothing when one payload of the batch is invalid', async () => {
    const before = await app.get(DataSource).query(`SELECT count(*) AS n FROM managed_jobs`);
    const valid = { from: '2026-01-01', to: '2026-01-31' };
    await expect(
      runner.dispatchMany(GenerateReportJob, [{ payload: valid }, { payload: { from: 'yesterday', to: 'today' } }, { payload: valid }]),
    ).rejects.toBeInstanceOf(InvalidJobPayloadError);
    const after = await app.get(DataSource).query(`SELECT count(*) AS n FROM managed_jobs`);
    expect(Number(after[0].n)).toBe(Number(before[0].n));
  });
});
