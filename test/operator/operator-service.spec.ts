import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  JobNotFoundError,
  JobRunnerService,
  JobStatus,
  JobWaitTimeoutError,
  ManagedJobsError,
  ManagedJobsOperatorService,
} from '../../lib/index.js';
import { JobLogWriter } from '../../lib/operator/job-log.writer.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { operatorJobs } from './operator-jobs.js';

describe.each(dialects)('ManagedJobsOperatorService on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let operator: ManagedJobsOperatorService;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: operatorJobs, options: { worker: { queues: ['default', 'work2'] } } });
    runner = app.get(JobRunnerService);
    operator = app.get(ManagedJobsOperatorService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const statusOf = async (jobId: string) => (await runner.find(jobId))!.status;

  it('waitFor resolves with the ended job, times out, and refuses unknown jobs; drain waits for the queue', async () => {
    const job = await runner.dispatch('op-echo', { value: 1 });
    const done = await runner.waitFor(job.jobId, { timeoutMs: 20_000 });
    expect(done.status).toBe(JobStatus.Completed);
    expect(done.result).toEqual({ echoed: 1 });
    const failing = await runner.dispatch('op-fail', {});
    expect((await runner.waitFor(failing.jobId, { timeoutMs: 20_000 })).status).toBe(JobStatus.Failed);
    const held = await runner.dispatch('op-echo', {}, { queue: 'nobody-listens' });
    await expect(runner.waitFor(held.jobId, { timeoutMs: 300 })).rejects.toBeInstanceOf(JobWaitTimeoutError);
    await expect(runner.waitFor('0190b2a4-0000-7000-8000-000000000000')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(runner.waitFor('nope')).rejects.toBeInstanceOf(JobNotFoundError);
    const many = await runner.dispatchMany('op-echo', Array.from({ length: 5 }, (_, i) => ({ payload: { value: i } })));
    await runner.drain({ timeoutMs: 20_000 });
    for (const j of many) expect([j.jobId, (await runner.find(j.jobId))!.failedReason]).toEqual([j.jobId, null]);
    for (const j of many) expect(await statusOf(j.jobId)).toBe(JobStatus.Completed);
  });

  it('findJob returns the job with its attempts (errors kept), steps, files and logs; null when unknown', async () => {
    const job = await runner.dispatch('op-fail', {});
    await runner.waitFor(job.jobId, { timeoutMs: 20_000 });
    await app.get(JobLogWriter).flush();
    const details = (await operator.findJob(job.jobId))!;
    expect(details.job.status).toBe(JobStatus.Failed);
    expect(details.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, expect.any(String)],
      [2, 'failed'],
    ]);
    expect(details.attempts[0].error).toContain('run 1 broke'); // every attempt's error is kept (queue-run)
    expect(details.attempts[1].error).toContain('run 2 broke');
    expect(details.logs.map((l) => [l.level, l.message])).toEqual([
      ['error', 'run 1 is about to fail'],
      ['error', 'run 2 is about to fail'],
    ]);

    const echo = await runner.dispatch('op-echo', { value: 'x' });
    await runner.waitFor(echo.jobId, { timeoutMs: 20_000 });
    await app.get(JobLogWriter).flush();
    const e = (await operator.findJob(echo.jobId))!;
    expect(e.steps).toEqual([{ name: 'first', result: 'one', completedAt: expect.any(Date) }]);
    expect(e.files.map((f) => f.filename)).toEqual(['out.txt']);
    expect(e.logs).toEqual([{ at: expect.any(Date), level: 'info', message: 'starting', data: { value: 'x' } }]);
    expect(e.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'completed', error: null })]);
    expect(await operator.findJob('0190b2a4-0000-7000-8000-000000000000')).toBeNull();
    expect(await operator.findJob('not-an-id')).toBeNull();
  });

  it('keeps the last 1,000 log lines of a job, written in batches', async () => {
    const ds = app.get(DataSource);
    const job = await runner.dispatch('op-echo', { lines: 1300 });
    await runner.waitFor(job.jobId, { timeoutMs: 20_000 });
    await app.get(JobLogWriter).flush();
    const logs = (await operator.findJob(job.jobId))!.logs;
    expect(logs.length).toBeGreaterThanOrEqual(1000);
    expect(logs.length).toBeLessThanOrEqual(1200);
    expect(logs.at(-1)!.message).toBe('line 1299');
    // One more batch for this job trims it to exactly the last 1,000.
    const writer = app.get(JobLogWriter);
    for (let i = 0; i < 200; i++) writer.write(job.jobId, 'info', `extra ${i}`);
    await writer.flush();
    const [{ n }] = await ds.query(`SELECT count(*) AS n FROM managed_job_logs WHERE job_id = ${dialect === 'postgres' ? '$1' : '?'}`, [job.jobId]);
    expect(Number(n)).toBe(1000);
  });

  it('listJobs filters by status, queue, type, owner, tenant, search and creation time, and pages', async () => {
    const before = new Date(Date.now() - 1000);
    const a = await runner.dispatch('op-echo', {}, { queue: 'list-q', ownerId: 'u-list', tenantId: 't-list' });
    const b = await runner.dispatch('op-slow', {}, { queue: 'list-q', ownerId: 'u-list' });
    const c = await runner.dispatch('op-echo', {}, { queue: 'list-q2', ownerId: 'u-other' });
    const ids = async (q: Parameters<typeof operator.listJobs>[0]) => (await operator.listJobs(q)).data.map((j) => j.jobId);
    expect(await ids({ queue: 'list-q' })).toEqual([b.jobId, a.jobId]);
    expect(await ids({ queue: 'list-q', type: 'op-echo' })).toEqual([a.jobId]);
    expect(await ids({ ownerId: 'u-list' })).toEqual([b.jobId, a.jobId]);
    expect(await ids({ tenantId: 't-list' })).toEqual([a.jobId]);
    expect(await ids({ status: 'pending', queue: 'list-q2' })).toEqual([c.jobId]);
    expect(await ids({ status: ['completed', 'failed'], queue: 'list-q2' })).toEqual([]);
    expect(await ids({ search: c.jobId })).toEqual([c.jobId]);
    expect(await ids({ search: 'OP-SLOW', queue: 'list-q' })).toEqual([b.jobId]);
    expect(await ids({ createdFrom: before, queue: 'list-q' })).toHaveLength(2);
    expect(await ids({ createdTo: before, queue: 'list-q' })).toEqual([]);
    expect(await ids({ batchId: 'any' })).toEqual([]);
    const page = await operator.listJobs({ queue: 'list-q', limit: 1, page: 2 });
    expect(page.data.map((j) => j.jobId)).toEqual([a.jobId]);
    expect(page.meta).toEqual({ page: 2, limit: 1, total: 2 });
    expect((await operator.listJobs({ limit: 100_000 })).meta.limit).toBe(500);
    await expect(operator.listJobs({ status: 'bogus' })).rejects.toBeInstanceOf(ManagedJobsError);
    await expect(operator.listJobs({ page: 0 })).rejects.toBeInstanceOf(ManagedJobsError);
    await expect(operator.listJobs({ createdFrom: 'yesterday' as any })).rejects.toBeInstanceOf(ManagedJobsError);
  });

  it('retry puts failed and stopped jobs back by id or by filter, refuses empty filters, and is audited', async () => {
    const failed = await runner.dispatch('op-fail', {}, { queue: 'work2' });
    await runner.waitFor(failed.jobId, { timeoutMs: 20_000 });
    const stopped = await runner.dispatch('op-echo', {}, { queue: 'retry-held' });
    await runner.stop(stopped.jobId);
    const done = await runner.dispatch('op-echo', {}, { queue: 'work2' });
    await runner.waitFor(done.jobId, { timeoutMs: 20_000 });

    await expect(operator.retry({})).rejects.toThrow(/empty filter is refused/);
    await expect(operator.retry({ jobIds: [] })).rejects.toThrow(/empty filter is refused/);
    await expect(operator.retry({ status: 'completed' as any })).rejects.toBeInstanceOf(ManagedJobsError);

    expect(await operator.retry({ jobIds: [done.jobId] })).toEqual({ count: 0 }); // completed: not retryable
    expect(await operator.retry({ jobIds: [stopped.jobId] }, { actor: 'ann', reason: 'try again' })).toEqual({ count: 1 });
    expect(await statusOf(stopped.jobId)).toBe(JobStatus.Pending);
    expect(await operator.retry({ status: 'failed', queue: 'work2', type: 'op-fail' })).toEqual({ count: 1 });
    const again = await runner.waitFor(failed.jobId, { timeoutMs: 20_000 }).catch(() => null);
    expect(again?.attempts).toBe(2); // ran both fresh tries again
    const audit = (await operator.auditLog({ limit: 2 })).data;
    expect(audit[1]).toEqual({ at: expect.any(Date), actor: 'ann', action: 'retry', target: JSON.stringify({ jobIds: [stopped.jobId] }), reason: 'try again', count: 1 });
    expect(audit[0]).toMatchObject({ actor: null, action: 'retry', count: 1, reason: null });
  });

  it('delete removes finished jobs only (never pending, waiting or running), with their attempts and logs', async () => {
    const ds = app.get(DataSource);
    await runner.drain({ timeoutMs: 20_000 });
    await operator.delete({ queue: 'work2' }); // what earlier tests left there: every finished job of the queue
    expect((await operator.listJobs({ queue: 'work2' })).meta.total).toBe(0);
    const pending = await runner.dispatch('op-echo', {}, { queue: 'del-held' });
    const running = await runner.dispatch('op-slow', {}, { queue: 'work2' });
    await waitFor(async () => (await statusOf(running.jobId)) === JobStatus.Running, { timeoutMs: 20_000 });
    const completed = await runner.dispatch('op-echo', {}, { queue: 'work2' });
    const failed = await runner.dispatch('op-fail', {}, { queue: 'work2' });
    await runner.waitFor(completed.jobId, { timeoutMs: 20_000 });
    await runner.waitFor(failed.jobId, { timeoutMs: 20_000 });
    await app.get(JobLogWriter).flush();

    await expect(operator.delete({})).rejects.toThrow(/empty filter is refused/);
    await expect(operator.delete({ status: 'pending' as any })).rejects.toBeInstanceOf(ManagedJobsError);
    await expect(operator.delete({ status: 'running' as any })).rejects.toBeInstanceOf(ManagedJobsError);
    expect(await operator.delete({ jobIds: [pending.jobId, running.jobId] })).toEqual({ count: 0 });
    expect(await operator.delete({ queue: 'del-held' })).toEqual({ count: 0 });
    expect(await operator.delete({ finishedBefore: new Date(Date.now() - 3_600_000), queue: 'work2' })).toEqual({ count: 0 });
    expect(await operator.delete({ status: 'failed', queue: 'work2' })).toEqual({ count: 1 });
    expect(await runner.find(failed.jobId)).toBeNull();
    const q = dialect === 'postgres' ? '$1' : '?';
    expect(await ds.query(`SELECT job_id FROM managed_job_attempts WHERE job_id = ${q}`, [failed.jobId])).toEqual([]);
    expect(await ds.query(`SELECT job_id FROM managed_job_logs WHERE job_id = ${q}`, [failed.jobId])).toEqual([]);
    expect(await operator.delete({ type: 'op-echo', queue: 'work2' }, { reason: 'cleanup' })).toEqual({ count: 1 });
    expect(await statusOf(pending.jobId)).toBe(JobStatus.Pending);
    expect(await statusOf(running.jobId)).toBe(JobStatus.Running);
    expect((await operator.auditLog({ limit: 1 })).data[0]).toMatchObject({ action: 'delete', reason: 'cleanup', count: 1 });
    await operator.stop(running.jobId, { actor: 'bob' });
    expect(await statusOf(running.jobId)).toBe(JobStatus.Stopped);
    expect((await operator.auditLog({ limit: 1 })).data[0]).toMatchObject({ action: 'stop', actor: 'bob', target: running.jobId, count: 1 });
  });

  it('clearQueue deletes the pending jobs of one queue only', async () => {
    const a = await runner.dispatch('op-echo', {}, { queue: 'clear-me' });
    const b = await runner.dispatch('op-echo', {}, { queue: 'clear-me' });
    const other = await runner.dispatch('op-echo', {}, { queue: 'keep-me' });
    expect(await operator.clearQueue('clear-me', { actor: 'ops' })).toEqual({ count: 2 });
    expect(await runner.find(a.jobId)).toBeNull();
    expect(await runner.find(b.jobId)).toBeNull();
    expect(await statusOf(other.jobId)).toBe(JobStatus.Pending);
    await expect(operator.clearQueue('')).rejects.toBeInstanceOf(ManagedJobsError);
  });

  it('a paused queue takes dispatches and is not claimed from until resumed; stats show it', async () => {
    await operator.pauseQueue('work2', { actor: 'ops', reason: 'maintenance' });
    const job = await runner.dispatch('op-echo', {}, { queue: 'work2' });
    await new Promise((r) => setTimeout(r, 800)); // several polls
    expect(await statusOf(job.jobId)).toBe(JobStatus.Pending);
    const stats = await operator.stats();
    const work2 = stats.queues.find((q) => q.queue === 'work2')!;
    expect(work2).toMatchObject({ paused: true, pending: 1 });
    expect(work2.oldestPendingAgeMs).toBeGreaterThanOrEqual(500);
    expect(stats.queues.find((q) => q.queue === 'default')).toMatchObject({ paused: false, completed: expect.any(Number) });
    expect(stats.workers).toBe(1);
    await operator.resumeQueue('work2', { actor: 'ops' });
    expect((await runner.waitFor(job.jobId, { timeoutMs: 20_000 })).status).toBe(JobStatus.Completed);
    expect((await operator.stats()).queues.find((q) => q.queue === 'work2')).toMatchObject({ paused: false, pending: 0, oldestPendingAgeMs: null });
    const audit = (await operator.auditLog({ limit: 2 })).data.map((e) => [e.action, e.target, e.actor]);
    expect(audit).toEqual([
      ['resumeQueue', 'work2', 'ops'],
      ['pauseQueue', 'work2', 'ops'],
    ]);
  });

  it('workers() lists this process with its queues, concurrency and heartbeat', async () => {
    const workers = await operator.workers();
    expect(workers).toEqual([
      {
        workerId: expect.any(String),
        hostname: expect.any(String),
        pid: process.pid,
        queues: ['default', 'work2'],
        concurrency: 10,
        running: expect.any(Number),
        startedAt: expect.any(Date),
        lastSeenAt: expect.any(Date),
      },
    ]);
    expect(Date.now() - workers[0].lastSeenAt.getTime()).toBeLessThan(10_000);
    const audit = await operator.auditLog({ page: 1, limit: 3 });
    expect(audit.meta.total).toBeGreaterThanOrEqual(5);
    expect(audit.data).toHaveLength(3);
  });
});
