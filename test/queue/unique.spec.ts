import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidJobKeyError, JobRunnerService, JobStateConflictError, JobStatus } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { PlainQueueJob, QueueProbe, queueJobs, UniqueSingletonJob, UniqueSyncJob, UniqueUntilStartedJob } from './queue-jobs.js';

describe.each(dialects)('unique jobs on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let probe: QueueProbe;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: queueJobs, options: { worker: { concurrency: 4 } } });
    runner = app.get(JobRunnerService);
    probe = app.get(QueueProbe);
    ds = app.get(DataSource);
  });

  afterAll(async () => {
    probe?.releaseAll();
    await app?.close();
    await db?.drop();
  });

  const rowsOf = async (type: string, key: string) =>
    Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE type = '${type}' AND unique_key = '${key}'`))[0].n);
  const status = (jobId: string, want: JobStatus) =>
    waitFor(async () => ((await runner.find(jobId))?.status === want ? runner.find(jobId) : null), { timeoutMs: 15_000 });

  it('until finished: while a job holds its key (pending, then running) a dispatch writes nothing and returns it; after it finishes, a new one is queued', async () => {
    const first = await runner.dispatch(UniqueSyncJob, { key: 'acct-1', hold: true });
    expect(first.uniqueKey).toBe('acct-1');
    expect(first.uniqueUntil).toBe('finished');
    const again = await runner.dispatch(UniqueSyncJob, { key: 'acct-1', hold: true });
    expect(again.jobId).toBe(first.jobId);
    await waitFor(() => probe.holding(first.jobId));
    const whileRunning = await runner.dispatch(UniqueSyncJob, { key: 'acct-1' });
    expect(whileRunning.jobId).toBe(first.jobId);
    expect(whileRunning.status).toBe(JobStatus.Running);
    // another key is another job
    const other = await runner.dispatch(UniqueSyncJob, { key: 'acct-2' });
    expect(other.jobId).not.toBe(first.jobId);
    expect(await rowsOf('unique-sync', 'acct-1')).toBe(1);

    probe.release(first.jobId);
    await status(first.jobId, JobStatus.Completed);
    const next = await runner.dispatch(UniqueSyncJob, { key: 'acct-1' });
    expect(next.jobId).not.toBe(first.jobId);
    expect(next.status).toBe(JobStatus.Pending);
    await status(next.jobId, JobStatus.Completed);
    expect(await rowsOf('unique-sync', 'acct-1')).toBe(2);
  });

  it("until started: a dispatch while the job runs queues a new one; while it is pending, it returns it", async () => {
    const first = await runner.dispatch(UniqueUntilStartedJob, { key: 'k', hold: true });
    await waitFor(() => probe.holding(first.jobId));
    const second = await runner.dispatch(UniqueUntilStartedJob, { key: 'k', hold: true, ms: 1 });
    expect(second.jobId).not.toBe(first.jobId);
    await waitFor(() => probe.holding(second.jobId));
    probe.release(first.jobId);
    probe.release(second.jobId);
    await status(second.jobId, JobStatus.Completed);
    // pending holders: delayed so they stay pending
    const p1 = await runner.dispatch(UniqueUntilStartedJob, { key: 'later' }, { delayMs: 60_000 });
    const p2 = await runner.dispatch(UniqueUntilStartedJob, { key: 'later' }, { delayMs: 60_000 });
    expect(p2.jobId).toBe(p1.jobId);
    await runner.stop(p1.jobId);
  });

  it('dispatch(…, { uniqueKey }) wins over the key function, and unique: true keys on the type; dispatchMany dedupes within and across batches', async () => {
    const a = await runner.dispatch(UniqueSyncJob, { key: 'ignored' }, { uniqueKey: 'explicit', delayMs: 60_000 });
    const b = await runner.dispatch(UniqueSyncJob, { key: 'other' }, { uniqueKey: 'explicit' });
    expect(b.jobId).toBe(a.jobId);
    expect(a.uniqueKey).toBe('explicit');

    const s1 = await runner.dispatch(UniqueSingletonJob, { key: 'x' }, { delayMs: 60_000 });
    const s2 = await runner.dispatch(UniqueSingletonJob, { key: 'y' });
    expect(s2.jobId).toBe(s1.jobId);
    expect(s1.uniqueKey).toBe('unique-singleton');

    const many = await runner.dispatchMany(UniqueSyncJob, [
      { payload: { key: 'm1' }, options: { delayMs: 60_000 } },
      { payload: { key: 'm2' }, options: { delayMs: 60_000 } },
      { payload: { key: 'm1' }, options: { delayMs: 60_000 } },
    ]);
    expect(many).toHaveLength(3);
    expect(many[2].jobId).toBe(many[0].jobId);
    expect(many[1].jobId).not.toBe(many[0].jobId);
    const more = await runner.dispatchMany(UniqueSyncJob, [{ payload: { key: 'm2' } }, { payload: { key: 'm3' }, options: { delayMs: 60_000 } }]);
    expect(more[0].jobId).toBe(many[1].jobId);
    expect(await rowsOf('unique-sync', 'm1')).toBe(1);
    for (const j of [a, s1, many[0], many[1], more[1]]) await runner.stop(j.jobId);
  });

  it('a plain job dispatched with a uniqueKey becomes unique; plain jobs without one are never deduplicated', async () => {
    const p1 = await runner.dispatch(PlainQueueJob, { key: 'p' }, { uniqueKey: 'once', delayMs: 60_000 });
    const p2 = await runner.dispatch(PlainQueueJob, { key: 'p' }, { uniqueKey: 'once' });
    expect(p2.jobId).toBe(p1.jobId);
    const n1 = await runner.dispatch(PlainQueueJob, { key: 'p' }, { delayMs: 60_000 });
    const n2 = await runner.dispatch(PlainQueueJob, { key: 'p' }, { delayMs: 60_000 });
    expect(n1.uniqueKey).toBeNull();
    expect(n2.jobId).not.toBe(n1.jobId);
    for (const j of [p1, n1, n2]) await runner.stop(j.jobId);
  });

  it('concurrent dispatches of one key (one process, many connections) write one row and every caller gets it', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => runner.dispatch(UniqueSyncJob, { key: 'race' }, { delayMs: 60_000 })));
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1);
    expect(await rowsOf('unique-sync', 'race')).toBe(1);
    await runner.stop(results[0].jobId);
  });

  it('retry() of a failed unique job while another holds its key is refused and changes nothing; once free, it is retried', async () => {
    const failed = await runner.dispatch(UniqueSingletonJob, { key: 'fail' });
    await status(failed.jobId, JobStatus.Failed);
    // the earlier singleton test stopped its holder: the key is free, so this one holds it now
    const holder = await runner.dispatch(UniqueSingletonJob, { key: 'z' }, { delayMs: 60_000 });
    expect(holder.jobId).not.toBe(failed.jobId);
    const refused = await runner.retry(failed.jobId).catch((e) => e);
    expect(refused).toBeInstanceOf(JobStateConflictError);
    expect(refused.message).toContain(holder.jobId);
    expect((await runner.find(failed.jobId))!.status).toBe(JobStatus.Failed);
    await runner.stop(holder.jobId);
    const retried = await runner.retry(failed.jobId);
    expect(retried.status).toBe(JobStatus.Pending);
    await status(failed.jobId, JobStatus.Failed);
  });

  it('refuses a key that is not a non-empty string of at most 255 characters, writing nothing', async () => {
    const before = Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs`))[0].n);
    for (const bad of ['', 'x'.repeat(256), 42, null]) {
      await expect(runner.dispatch(UniqueSyncJob, { key: 'fine' }, { uniqueKey: bad as any })).rejects.toThrow(InvalidJobKeyError);
      await expect(runner.dispatch(UniqueSyncJob, { key: bad as any })).rejects.toThrow(/unique key of job "unique-sync" must be a non-empty string of at most 255 characters/);
    }
    await expect(runner.dispatchMany(UniqueSyncJob, [{ payload: { key: 'ok-1' } }, { payload: { key: '' } }])).rejects.toThrow(InvalidJobKeyError);
    expect(Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs`))[0].n)).toBe(before);
    // 255 characters is fine
    const long = await runner.dispatch(UniqueSyncJob, { key: 'k'.repeat(255) }, { delayMs: 60_000 });
    expect(long.uniqueKey).toHaveLength(255);
    await runner.stop(long.jobId);
  });
});
