import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  InvalidJobPayloadError,
  JobNotFoundError,
  JobRunnerService,
  JobStateConflictError,
  JobStatus,
  ManagedJobEntity,
  UnknownJobError,
} from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { allJobs, FlakyJob, GenerateReportJob, Probe, userA, userB } from '../fixtures/jobs.js';

describe.each(dialects)('job lifecycle on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let probe: Probe;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: allJobs });
    runner = app.get(JobRunnerService);
    probe = app.get(Probe);
    dataSource = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const settled = (jobId: string, statuses = [JobStatus.Completed, JobStatus.Failed, JobStatus.Stopped]) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && statuses.includes(job.status) ? job : null;
    }, { timeoutMs: 15_000 });

  it('runs a job from pending to completed with progress, result and events in order', async () => {
    const job = await runner.dispatch(GenerateReportJob, { from: '2024-01-01', to: '2024-12-31', rows: 4 }, { owner: userA });
    expect(job.status).toBe(JobStatus.Pending);
    expect(job.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.ownerUserId).toBe('user-a');
    expect(job.ownerTenantId).toBe('tenant-1');

    const done = await settled(job.jobId);
    expect(done.status).toBe(JobStatus.Completed);
    expect(done.result).toEqual({ rows: 4, from: '2024-01-01' });
    expect(done.progressPercentage).toBe(100);
    expect(done.progressMessage).toBe('Row 4 of 4');
    expect(done.startedAt).toBeInstanceOf(Date);
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
    expect(done.attempts).toBe(1);
    expect(done.leaseOwner).toBeNull();

    await waitFor(() => probe.events.some((e) => e.jobId === job.jobId && e.name === 'managed-job.completed'));
    const names = probe.events.filter((e) => e.jobId === job.jobId).map((e) => e.name);
    expect(names[0]).toBe('managed-job.started');
    expect(names[names.length - 1]).toBe('managed-job.completed');
    expect(names.slice(1, -1).every((n) => n === 'managed-job.progress')).toBe(true);
    const progress = probe.events.filter((e) => e.jobId === job.jobId && e.name === 'managed-job.progress').map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress[progress.length - 1]).toBe(100);
  });

  it('refuses an invalid payload with the violations and writes nothing', async () => {
    const before = await dataSource.getRepository(ManagedJobEntity).count();
    // By name: the payload is unknown to the compiler, so the runtime check is what refuses it.
    const attempt = runner.dispatch('generate-report', { from: 'yesterday', to: '2024-12-31', extra: 1 }, { owner: userA });
    await expect(attempt).rejects.toBeInstanceOf(InvalidJobPayloadError);
    const error = (await attempt.catch((e) => e)) as InvalidJobPayloadError;
    expect(error.violations.map((v) => v.property).sort()).toEqual(['extra', 'from']);
    await expect(runner.dispatch('generate-report', null, { owner: userA })).rejects.toBeInstanceOf(InvalidJobPayloadError);
    await expect(runner.dispatch('no-such-job', {}, { owner: userA })).rejects.toBeInstanceOf(UnknownJobError);
    await expect(runner.dispatch(class NotAJob {}, {}, { owner: userA })).rejects.toBeInstanceOf(UnknownJobError);
    expect(await dataSource.getRepository(ManagedJobEntity).count()).toBe(before);
  });

  it('retries with the declared backoff and fails for good after `tries`, storing the reason', async () => {
    const job = await runner.dispatch(FlakyJob, { failTimes: 5 }, { owner: userA });
    const done = await settled(job.jobId, [JobStatus.Failed]);
    expect(done.failedReason).toBe('boom on attempt 3');
    expect(done.attempts).toBe(3);
    const runs = probe.runsOf(job.jobId);
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    // backoff: [1, 2] seconds between the runs (measured on the handler's side)
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(950);
    expect(runs[2].at - runs[1].at).toBeGreaterThanOrEqual(1950);
    await waitFor(() => probe.failedHook.some((f) => f.jobId === job.jobId));
    expect(probe.failedHook.find((f) => f.jobId === job.jobId)!.message).toBe('boom on attempt 3');
    expect(probe.events.filter((e) => e.jobId === job.jobId && e.name === 'managed-job.failed')).toHaveLength(1);
  });

  it('succeeds on a retry without calling failed()', async () => {
    const job = await runner.dispatch(FlakyJob, { failTimes: 1 }, { owner: userA });
    const done = await settled(job.jobId);
    expect(done.status).toBe(JobStatus.Completed);
    expect(done.result).toEqual({ attempt: 2 });
    expect(done.failedReason).toBeNull();
    expect(probe.failedHook.some((f) => f.jobId === job.jobId)).toBe(false);
  });

  it('scopes find, list, stop, retry and files to the owner', async () => {
    const job = await runner.dispatch(FlakyJob, { failTimes: 9 }, { owner: userB });
    await settled(job.jobId, [JobStatus.Failed]);
    expect(await runner.find(job.jobId, { owner: userA })).toBeNull();
    expect(await runner.find(job.jobId, { owner: userB })).not.toBeNull();
    await expect(runner.stop(job.jobId, { owner: userA })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(runner.retry(job.jobId, { owner: userA })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(runner.files(job.jobId, { owner: userA })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(runner.find('not-a-uuid', { owner: userB })).resolves.toBeNull();
    const listA = await runner.list({ owner: userA, limit: 100 });
    expect(listA.data.some((j) => j.jobId === job.jobId)).toBe(false);
    expect(listA.data.every((j) => j.ownerUserId === 'user-a')).toBe(true);
    const listB = await runner.list({ owner: userB, status: JobStatus.Failed });
    expect(listB.data.map((j) => j.jobId)).toContain(job.jobId);
    expect(listB.meta).toEqual({ page: 1, limit: 20, total: listB.data.length });
    // the foreign owner's attempts changed nothing
    const after = await runner.find(job.jobId);
    expect(after!.status).toBe(JobStatus.Failed);
    // and the rightful owner can retry it; a second retry is a conflict
    const retried = await runner.retry(job.jobId, { owner: userB });
    expect(retried.status).toBe(JobStatus.Pending);
    expect(retried.progressPercentage).toBe(0);
    expect(retried.failedReason).toBeNull();
    await runner.stop(job.jobId, { owner: userB }).catch(() => undefined);
    await settled(job.jobId);
    const finished = await runner.find(job.jobId);
    if (finished!.status === JobStatus.Completed) await expect(runner.retry(job.jobId, { owner: userB })).rejects.toBeInstanceOf(JobStateConflictError);
    await expect(runner.stop(job.jobId, { owner: userB })).rejects.toBeInstanceOf(JobStateConflictError);
  });

  it('never runs a job dispatched in a transaction that rolls back, and runs it once committed', async () => {
    let rolledBackId = '';
    await expect(
      dataSource.transaction(async (manager) => {
        const job = await runner.dispatch(GenerateReportJob, { from: '2024-01-01', to: '2024-01-02', rows: 1 }, { owner: userA, manager });
        rolledBackId = job.jobId;
        await new Promise((r) => setTimeout(r, 400)); // give the worker every chance to see it
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const committed = await dataSource.transaction((manager) =>
      runner.dispatch(GenerateReportJob, { from: '2024-01-01', to: '2024-01-02', rows: 1 }, { owner: userA, manager }),
    );
    await settled(committed.jobId);
    expect(await runner.find(rolledBackId)).toBeNull();
    expect(probe.runsOf(rolledBackId)).toHaveLength(0);
    expect(probe.runsOf(committed.jobId)).toHaveLength(1);
  });

  it('honours delayMs and availableAt', async () => {
    const started = Date.now();
    const delayed = await runner.dispatch(GenerateReportJob, { from: '2024-01-01', to: '2024-01-02', rows: 1 }, { owner: userA, delayMs: 700 });
    const at = await runner.dispatch(GenerateReportJob, { from: '2024-01-01', to: '2024-01-02', rows: 1 }, { owner: userA, availableAt: new Date(Date.now() + 700) });
    await settled(delayed.jobId);
    await settled(at.jobId);
    expect(probe.runsOf(delayed.jobId)[0].at - started).toBeGreaterThanOrEqual(650);
    expect(probe.runsOf(at.jobId)[0].at - started).toBeGreaterThanOrEqual(650);
  });
});
