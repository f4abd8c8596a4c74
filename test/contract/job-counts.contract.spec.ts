/**
 * The store contract, continued: `jobCounts()` (behind the operator's `stats()`) is exact at every
 * step, read from either of two stores on one database, while ended jobs move into the counts
 * table (`managed_job_ended_counts`, up to the watermark) and retry, delete, prune, clearQueue and a
 * revived workflow member take jobs out of it from the other store. The truth is a full
 * `count(*) … GROUP BY queue, status` of the table.
 */
import type { DataSource } from 'typeorm';
import type { JobCount } from '../../lib/store/job-store.interface.js';
import * as programs from '../../lib/workflows/batch-programs.js';
import { planMembers } from '../../lib/workflows/batch-plan.js';
import type { NewBatchRow } from '../../lib/workflows/batch-row.js';
import { newJobId } from '../../lib/ids/job-id.js';
import { storeFixtures, type StoreUnderTest } from './store-fixture.js';
import { claimOf, completionOf, failureOf, newJob, sleep, wipe } from './store-helpers.js';

type Counts = Record<string, number>;

const asMap = (rows: JobCount[]): Counts => Object.fromEntries(rows.filter((r) => r.count).map((r) => [`${r.queue}/${r.status}`, r.count]).sort());

async function truth(ds: DataSource, type?: string): Promise<Counts> {
  const where = type === undefined ? '' : `WHERE type = '${type}'`;
  const rows = await ds.query(`SELECT queue, status, count(*) AS n FROM managed_jobs ${where} GROUP BY queue, status`);
  return Object.fromEntries(rows.map((r: any) => [`${r.queue}/${r.status}`, Number(r.n)]).sort());
}

/**
 * Long enough for the watermark to pass the ends so far: it stays a second behind the clock (five
 * on MySQL/MariaDB) and moves when two seconds behind (SQLite) or seven (MySQL/MariaDB).
 */
const passWatermark = (dialect: string) => sleep(dialect === 'mariadb' ? 7_600 : 2_300);

const watermark = async (ds: DataSource) => String((await ds.query(`SELECT watermark AS w FROM managed_job_ended_mark WHERE id = 1`))[0].w);

describe.each(storeFixtures)('store contract (job counts) on $name', (fixture) => {
  let a: StoreUnderTest;
  let b: StoreUnderTest;

  beforeAll(async () => {
    await fixture.setUp();
    a = await fixture.openStore();
    b = await fixture.openStore();
  });
  beforeEach(() => wipe(a.dataSource));
  afterAll(async () => {
    await fixture.closeStores();
    await fixture.tearDown();
  });

  /** Both stores answer the truth (all jobs, and those of one type). */
  async function expectExact(): Promise<Counts> {
    const expected = await truth(a.dataSource);
    expect(asMap(await a.store.jobCounts())).toEqual(expected);
    expect(asMap(await b.store.jobCounts())).toEqual(expected);
    expect(asMap(await b.store.jobCounts('other'))).toEqual(await truth(a.dataSource, 'other'));
    return expected;
  }

  it('is exact after dispatch, claim, end, stop, retry, delete, prune and clearQueue, across two stores', async () => {
    expect(await a.store.jobCounts()).toEqual([]);
    const jobs = await a.store.insert([
      ...Array.from({ length: 12 }, (_, i) => newJob({ maxAttempts: 1, type: i % 3 ? 'contract' : 'other' })),
      newJob({ queue: 'mail' }),
      newJob({ queue: 'mail', type: 'other' }),
    ]);
    await expectExact();
    const claimed = await b.store.claim(claimOf({ limit: 8, types: ['contract', 'other'] }));
    expect(claimed).toHaveLength(8);
    await expectExact();
    await a.store.complete(claimed.slice(0, 4).map((j) => completionOf(j)), 'worker-a');
    await b.store.fail(failureOf(claimed[4]), 'worker-b');
    await b.store.fail(failureOf(claimed[5]), 'worker-b');
    const pending = jobs.filter((j) => !claimed.some((c) => c.jobId === j.jobId) && j.queue === 'default');
    await a.store.stop(pending[0].jobId);
    expect(await expectExact()).toMatchObject({ 'default/completed': 4, 'default/failed': 2, 'default/stopped': 1, 'default/running': 2 });

    // The next count moves the watermark past those ends (into the counts table).
    await passWatermark(fixture.name);
    const before = await watermark(a.dataSource);
    await expectExact();
    expect(await watermark(a.dataSource)).not.toBe(before);
    expect(Number((await a.dataSource.query(`SELECT sum(n) AS n FROM managed_job_ended_counts`))[0].n)).toBe(7);

    // Taken out of the counts by the other store: retry (failed and stopped), delete, prune.
    expect(await b.store.retry(claimed[4].jobId, 1)).not.toBeNull();
    expect(await b.store.retry(pending[0].jobId, 1)).not.toBeNull();
    expect(await b.store.retry(claimed[0].jobId, 1)).toBeNull(); // completed: not retryable, nothing changes
    await expectExact();
    expect(await b.store.deleteJobs([claimed[0].jobId, claimed[1].jobId, claimed[6].jobId], ['completed', 'failed', 'stopped'])).toBe(2); // not the running one
    await expectExact();
    expect(await a.store.pruneFinished([claimed[2].jobId, claimed[5].jobId, claimed[4].jobId], 0)).toBe(2); // the retried one is pending again
    await expectExact();
    // clearQueue: the pending jobs of a queue (and a finished one named among them is kept).
    expect(await b.store.deleteJobs([...pending.slice(1).map((j) => j.jobId), claimed[3].jobId], ['pending'])).toBe(pending.length - 1);
    expect(await expectExact()).toMatchObject({ 'default/completed': 1, 'default/running': 2, 'mail/pending': 2 });

    // New ends after the watermark are counted live, then moved in as well.
    const [next] = await a.store.claim(claimOf({ queue: 'mail', limit: 1, types: ['contract', 'other'] }));
    await b.store.complete([completionOf(next)], 'worker-b');
    expect(await expectExact()).toMatchObject({ 'mail/completed': 1, 'mail/pending': 1 });
  });

  it('is exact when a retried workflow member revives the members its failure stopped', async () => {
    const rows = [newJob(), newJob()];
    const callback = newJob({ type: 'contract-callback' });
    const { jobId: _i, availableAt: _a, delayMs: _d, retryUntil: _r, ...template } = callback;
    const batch: NewBatchRow = {
      batchId: newJobId(),
      name: 'chain',
      total: 2,
      failurePolicy: 'continue',
      failureThreshold: null,
      callbacks: JSON.stringify({ catch: template }),
      ownerUserId: null,
      ownerTenantId: null,
      triggeredByUserId: null,
    };
    const items = [
      { job: 'contract', payload: {}, key: 'first' },
      { job: 'contract', payload: {}, key: 'second', dependsOn: ['first'] },
    ];
    await a.store.batches.run(() => programs.createBatch(a.store.batches.sql, batch, planMembers(items, rows)));
    const [first] = await a.store.claim(claimOf({ limit: 5 }));
    expect(first.jobId).toBe(rows[0].jobId);
    await b.store.batches.run(() => programs.failMember(b.store.batches.sql, { jobId: first.jobId, batchId: batch.batchId, key: 'first' }, failureOf(first), 'w'));
    expect(await expectExact()).toMatchObject({ 'default/failed': 1, 'default/stopped': 1 });
    await passWatermark(fixture.name);
    await expectExact(); // both ended rows now in the counts table
    expect(Number((await a.dataSource.query(`SELECT sum(n) AS n FROM managed_job_ended_counts`))[0].n)).toBe(2);
    const retried = await b.store.batches.run(() => programs.retryMember(b.store.batches.sql, { jobId: first.jobId, batchId: batch.batchId, key: 'first' }, 1, null, undefined));
    expect(retried?.job.status).toBe('pending');
    const counts = await expectExact();
    expect(counts['default/stopped'] ?? 0).toBe(0);
    expect(counts['default/waiting']).toBe(1);
  });

  if (fixture.name !== 'sqlite') {
    // SQLite moves the watermark under the write lock, where no other write can be open.
    it('does not move the watermark past a run end still uncommitted in another transaction', async () => {
      await a.store.insert([newJob(), newJob()]);
      const [open, other] = await a.store.claim(claimOf({ limit: 2 }));
      const now = fixture.name === 'postgres' ? `timezone('UTC', now())` : `UTC_TIMESTAMP(3)`;
      const runner = b.dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query(`UPDATE managed_jobs SET status = 'completed', lease_owner = NULL, lease_expires_at = NULL, finished_at = ${now} WHERE job_id = '${open.jobId}'`);
        await passWatermark(fixture.name); // past the watermark's margin
        await a.store.complete([completionOf(other)], 'worker-a');
        await passWatermark(fixture.name);
        const during = asMap(await a.store.jobCounts()); // may not move past the open transaction's start
        expect(during['default/completed']).toBe(1);
        await runner.commitTransaction();
      } finally {
        await runner.release();
      }
      expect(await expectExact()).toMatchObject({ 'default/completed': 2 });
      await passWatermark(fixture.name);
      await expectExact(); // and now it moves past both
      expect(Number((await a.dataSource.query(`SELECT sum(n) AS n FROM managed_job_ended_counts`))[0].n)).toBe(2);
    });
  }

  it('stays exact while runs end from two stores and both read the counts at the same time', async () => {
    await a.store.insert(Array.from({ length: 120 }, (_, i) => newJob({ queue: i % 2 ? 'q1' : 'q2', maxAttempts: 1 })));
    let ending = true;
    const readers = [a, b].map(async (s) => {
      let reads = 0;
      while (ending) {
        const counts = asMap(await s.store.jobCounts());
        const total = Object.values(counts).reduce((x, y) => x + y, 0);
        expect(total).toBe(120); // every job counted once, whatever moment is read
        reads++;
        await sleep(1); // SQLite answers synchronously: let the enders and timers in
      }
      return reads;
    });
    const ended: Record<string, number> = {};
    const tally = (key: string, n: number) => n && (ended[key] = (ended[key] ?? 0) + n);
    const enders = [a, b].map(async (s, k) => {
      for (const queue of ['q1', 'q2']) {
        for (;;) {
          const jobs = await s.store.claim(claimOf({ queue, limit: 5, workerId: `w${k}` }));
          if (!jobs.length) break;
          tally(`${queue}/completed`, (await s.store.complete(jobs.filter((_, i) => i % 3).map((j) => completionOf(j)), `w${k}`)).length);
          for (const j of jobs.filter((_, i) => i % 3 === 0)) if (await s.store.fail(failureOf(j), `w${k}`)) tally(`${queue}/failed`, 1);
        }
      }
    });
    await Promise.all(enders);
    await passWatermark(fixture.name);
    ending = false;
    expect((await Promise.all(readers)).every((n) => n > 0)).toBe(true);
    expect(await expectExact()).toEqual(ended);
    expect(Number((await a.dataSource.query(`SELECT sum(n) AS n FROM managed_job_ended_counts`))[0].n)).toBe(120);
  }, 90_000);
});
