import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJobAttemptEntity, ManagedJobStepEntity } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { allJobs, CheckpointJob, CountedJob, LongJob, Probe, SlowJob, StepsJob, userA, userB } from '../fixtures/jobs.js';

describe.each(dialects)('stop, checkpoints, steps and timeouts on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let probe: Probe;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    // concurrency 1 so a long job can keep a pending one waiting
    app = await createTestApp(db, { providers: allJobs, options: { worker: { concurrency: 1 } } });
    runner = app.get(JobRunnerService);
    probe = app.get(Probe);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const status = (jobId: string, want: JobStatus) =>
    waitFor(async () => ((await runner.find(jobId))?.status === want ? runner.find(jobId) : null), { timeoutMs: 15_000 });

  it('stops a pending job so it never runs, and a running job within a second', async () => {
    const running = await runner.dispatch(LongJob, { maxMs: 20_000 }, { owner: userA });
    await status(running.jobId, JobStatus.Running);
    const pending = await runner.dispatch(LongJob, { maxMs: 100 }, { owner: userA });

    const stoppedPending = await runner.stop(pending.jobId, { owner: userA });
    expect(stoppedPending.status).toBe(JobStatus.Stopped);

    await waitFor(() => probe.runsOf(running.jobId).length === 1);
    await new Promise((r) => setTimeout(r, 100));
    const requestedAt = Date.now();
    await runner.stop(running.jobId, { owner: userA });
    await waitFor(() => probe.stopSeenAt.get(running.jobId));
    expect(probe.stopSeenAt.get(running.jobId)! - requestedAt).toBeLessThan(1000);

    // the handler returned normally after the stop: the job stays stopped, with what it returned
    await new Promise((r) => setTimeout(r, 600));
    const after = await runner.find(running.jobId);
    expect(after!.status).toBe(JobStatus.Stopped);
    expect(after!.result).toEqual({ stoppedAt: expect.any(Number) });
    expect(probe.runsOf(pending.jobId)).toHaveLength(0);
    expect((await runner.find(pending.jobId))!.status).toBe(JobStatus.Stopped);
    const stoppedEvents = probe.events.filter((e) => e.name === 'managed-job.stopped').map((e) => e.jobId);
    expect(stoppedEvents).toEqual(expect.arrayContaining([pending.jobId, running.jobId]));
  });

  it('keeps the checkpoint across a retry: getState() resumes where the failed run stopped', async () => {
    const job = await runner.dispatch(CheckpointJob, { items: 6 }, { owner: userA });
    const done = await status(job.jobId, JobStatus.Completed);
    expect(done!.result).toEqual({ processed: [3, 4, 5] });
    expect(done!.state).toEqual({ done: 6 });
    const seen = probe.states.filter((s) => s.jobId === job.jobId);
    expect(seen).toEqual([
      { jobId: job.jobId, attempt: 1, state: null },
      { jobId: job.jobId, attempt: 2, state: { done: 3 } },
    ]);
  });

  it('runs a finished step once across retries and returns its stored result', async () => {
    const job = await runner.dispatch(StepsJob, {}, { owner: userA });
    const done = await status(job.jobId, JobStatus.Completed);
    expect(probe.stepRuns.get(`${job.jobId}:create-customer`)).toBe(1);
    expect(probe.stepRuns.get(`${job.jobId}:create-project`)).toBe(1);
    expect(done!.result).toEqual({ customer: { customerId: `cus_${job.jobId.slice(0, 8)}` }, project: 42 });
    const steps = await app.get(DataSource).getRepository(ManagedJobStepEntity).findBy({ jobId: job.jobId });
    expect(steps.map((s) => s.name).sort()).toEqual(['create-customer', 'create-project']);
  });

  it('aborts ctx.signal at the timeout and fails the attempt', async () => {
    const job = await runner.dispatch(SlowJob, {}, { owner: userA });
    const failed = await status(job.jobId, JobStatus.Failed);
    expect(failed!.failedReason).toBe('Timed out after 1s.');
    const [run] = probe.runsOf(job.jobId);
    expect(failed!.finishedAt!.getTime() - run.at).toBeLessThan(3000);
    const attempts = await app.get(DataSource).getRepository(ManagedJobAttemptEntity).findBy({ jobId: job.jobId });
    expect(attempts.map((a) => a.outcome)).toEqual(['timeout']);
  });

  it('records every run in the attempts ledger', async () => {
    const job = await runner.dispatch(CheckpointJob, { items: 4 }, { owner: userA });
    await status(job.jobId, JobStatus.Completed);
    const attempts = await app.get(DataSource).getRepository(ManagedJobAttemptEntity).find({ where: { jobId: job.jobId }, order: { fence: 'ASC' } });
    expect(attempts.map((a) => [a.attempt, a.fence, a.outcome])).toEqual([
      [1, 1, 'retrying'],
      [2, 2, 'completed'],
    ]);
    // Message and stack (issue 12: each attempt's error is kept with the attempt).
    expect(attempts[0].error).toMatch(/^Error: crash after item 2\n\s+at CheckpointJob\.handle/);
    expect(attempts.every((a) => a.workerId && a.finishedAt)).toBe(true);
  });

  it('runs higher priority first, then oldest first, and records who triggered a job', async () => {
    const blocker = await runner.dispatch(LongJob, { maxMs: 20_000 }, { owner: userA });
    await status(blocker.jobId, JobStatus.Running);
    const low = await runner.dispatch(CountedJob, {}, { owner: userA });
    const high = await runner.dispatch(CountedJob, {}, { owner: userA, priority: 10, triggeredBy: userB });
    const low2 = await runner.dispatch(CountedJob, {}, { owner: userA });
    expect(high.triggeredByUserId).toBe('user-b');
    await runner.stop(blocker.jobId);
    await status(low2.jobId, JobStatus.Completed);
    const order = probe.runs.filter((r) => [low.jobId, high.jobId, low2.jobId].includes(r.jobId)).map((r) => r.jobId);
    expect(order).toEqual([high.jobId, low.jobId, low2.jobId]);
  });

  it('paginates the list newest first and filters by status and type', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await runner.dispatch(CountedJob, {}, { owner: userB, delayMs: 60_000 })).jobId);
    const page1 = await runner.list({ owner: userB, type: 'counted', status: JobStatus.Pending, limit: 2 });
    const page3 = await runner.list({ owner: userB, type: 'counted', status: JobStatus.Pending, limit: 2, page: 3 });
    expect(page1.meta).toEqual({ page: 1, limit: 2, total: 5 });
    expect(page1.data.map((j) => j.jobId)).toEqual([ids[4], ids[3]]);
    expect(page3.data.map((j) => j.jobId)).toEqual([ids[0]]);
    expect((await runner.list({ owner: userB, limit: 1000 })).meta.limit).toBe(100);
    for (const id of ids) await runner.stop(id, { owner: userB });
    expect((await runner.list({ owner: userB, status: [JobStatus.Stopped], type: 'counted' })).meta.total).toBe(5);
  });
});
