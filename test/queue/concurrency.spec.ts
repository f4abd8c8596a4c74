import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidJobKeyError, JobRunnerService, JobStatus } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { maxOverlap, PerKeyTwoJob, PerTenantJob, PlainQueueJob, QueueProbe, queueJobs } from './queue-jobs.js';

describe.each(dialects)('concurrency keys on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let probe: QueueProbe;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: queueJobs, options: { worker: { concurrency: 8 } } });
    runner = app.get(JobRunnerService);
    probe = app.get(QueueProbe);
    ds = app.get(DataSource);
  });

  afterAll(async () => {
    probe?.releaseAll();
    await app?.close();
    await db?.drop();
  });

  const allDone = (ids: string[]) =>
    waitFor(async () => (await Promise.all(ids.map((id) => runner.find(id)))).every((j) => j?.status === JobStatus.Completed), { timeoutMs: 30_000, intervalMs: 50 });

  it('never runs more than `limit` of one key at once; other keys and plain jobs use the free slots; waiting uses no try', async () => {
    // One insert for all twelve: dispatched one by one on a loaded CI machine (MariaDB), a dispatch
    // could take longer than a run, and key b's runs never overlapped.
    const jobs = await runner.dispatchMany(PerKeyTwoJob, [
      ...Array.from({ length: 8 }, () => ({ payload: { key: 'a', ms: 60 } })),
      ...Array.from({ length: 4 }, () => ({ payload: { key: 'b', ms: 60 } })),
    ]);
    const plain = await runner.dispatch(PlainQueueJob, { key: 'p', ms: 10 });
    await allDone([...jobs.map((j) => j.jobId), plain.jobId]);
    const overlap = maxOverlap(probe.of('per-key-2'));
    expect(overlap.get('a')).toBe(2);
    expect(overlap.get('b')).toBe(2);
    for (const j of jobs) expect((await runner.find(j.jobId))!.attempts).toBe(1);
    // in order within a key
    const aStarts = probe.of('per-key-2').filter((r) => r.key === 'a').map((r) => r.jobId);
    expect(aStarts).toEqual(jobs.slice(0, 8).map((j) => j.jobId));
  });

  it('a held key blocks only itself: its pending jobs wait, another key runs', async () => {
    const held = await runner.dispatch(PerTenantJob, { key: 'x', hold: true }, { tenantId: 'acme' });
    await waitFor(() => probe.holding(held.jobId));
    const waiting = await runner.dispatch(PerTenantJob, { key: 'y' }, { tenantId: 'acme' });
    const other = await runner.dispatch(PerTenantJob, { key: 'z' }, { tenantId: 'beta' });
    await allDone([other.jobId]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await runner.find(waiting.jobId))!.status).toBe(JobStatus.Pending);
    expect((await runner.find(waiting.jobId))!.concurrencyKey).toBe('acme');
    probe.release(held.jobId);
    await allDone([held.jobId, waiting.jobId]);
  });

  it('the empty key is a group like any other: jobs without a tenant share `job.ownerTenantId ?? \'\'`', async () => {
    const held = await runner.dispatch(PerTenantJob, { key: 'x', hold: true });
    await waitFor(() => probe.holding(held.jobId));
    const waiting = await runner.dispatch(PerTenantJob, { key: 'y' });
    const tenant = await runner.dispatch(PerTenantJob, { key: 'z' }, { tenantId: 'gamma' });
    await allDone([tenant.jobId]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await runner.find(waiting.jobId))!.status).toBe(JobStatus.Pending);
    expect((await runner.find(waiting.jobId))!.concurrencyKey).toBe('');
    probe.release(held.jobId);
    await allDone([held.jobId, waiting.jobId]);
  });

  it('refuses a key function result that is not a string of at most 255 characters, writing nothing', async () => {
    const before = Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs`))[0].n);
    for (const bad of ['k'.repeat(256), 7, undefined, null]) {
      await expect(runner.dispatch(PerKeyTwoJob, { key: bad as any })).rejects.toThrow(InvalidJobKeyError);
    }
    await expect(runner.dispatch(PerKeyTwoJob, { key: 7 as any })).rejects.toThrow(/concurrency key of job "per-key-2" must be a string of at most 255 characters; got/);
    expect(Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs`))[0].n)).toBe(before);
  });
});
