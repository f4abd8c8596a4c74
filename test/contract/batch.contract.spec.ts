/**
 * The store's workflow transactions (`JobStore.batches`, lib/workflows/batch-programs.ts) on every
 * dialect, raced directly: many member ends of one batch committed at the same moment from two
 * stores ("processes") must count every member once, free a join exactly when its last
 * dependency completes, and let exactly one transaction end the batch and insert `then` / `finally`.
 */
import { newJobId } from '../../lib/ids/job-id.js';
import * as programs from '../../lib/workflows/batch-programs.js';
import { planMembers } from '../../lib/workflows/batch-plan.js';
import type { NewBatchRow } from '../../lib/workflows/batch-row.js';
import type { BatchItem } from '../../lib/workflows/batch.interfaces.js';
import { storeFixtures, type StoreUnderTest } from './store-fixture.js';
import { claimOf, completionOf, failureOf, newJob, wipe } from './store-helpers.js';

describe.each(storeFixtures)('workflow transactions on $name', (fixture) => {
  let a: StoreUnderTest;
  let b: StoreUnderTest;

  beforeAll(async () => {
    await fixture.setUp();
    a = await fixture.openStore();
    b = await fixture.openStore();
  });
  afterEach(() => wipe(a.dataSource));
  afterAll(async () => {
    await fixture.closeStores();
    await fixture.tearDown();
  });

  async function createBatch(items: BatchItem[], policy: NewBatchRow['failurePolicy'] = 'failFast') {
    const rows = items.map(() => newJob());
    const callback = { ...newJob({ type: 'contract-callback', payload: '{"kind":"x"}' }) };
    const { jobId: _i, availableAt: _a, delayMs: _d, retryUntil: _r, ...template } = callback;
    const batch: NewBatchRow = {
      batchId: newJobId(),
      name: 'race',
      total: items.length,
      failurePolicy: policy,
      failureThreshold: null,
      callbacks: JSON.stringify({ then: template, finally: template, catch: template }),
      ownerUserId: 'u',
      ownerTenantId: null,
      triggeredByUserId: null,
    };
    await a.store.batches.run(() => programs.createBatch(a.store.batches.sql, batch, planMembers(items, rows)));
    return { batch, rows };
  }

  const claimAll = async (n: number) => {
    const claimed = [];
    while (claimed.length < n) {
      const got = await a.store.claim(claimOf({ limit: 500 }));
      if (!got.length) break;
      claimed.push(...got);
    }
    return claimed;
  };
  const callbackRows = (batchId: string) => a.dataSource.query(`SELECT job_id FROM managed_jobs WHERE callback_batch_id = '${batchId}'`);
  const batchRow = async (batchId: string) => (await a.store.batches.read(a.store.batches.sql.findBatch(batchId)))[0];

  it('counts concurrent member ends exactly and ends the batch once, from two stores at once', async () => {
    const n = 40;
    const { batch } = await createBatch(Array.from({ length: n }, () => ({ job: 'contract', payload: {} })));
    const claimed = await claimAll(n);
    expect(claimed).toHaveLength(n);
    const changes = await Promise.all(
      claimed.map((job, i) => {
        const s = i % 2 ? b : a;
        return s.store.batches.run(() => programs.completeMember(s.store.batches.sql, { jobId: job.jobId, batchId: batch.batchId, key: null }, completionOf(job), 'w', s.store.batches.endsMembersInOneStatement));
      }),
    );
    expect(changes.every((c) => c !== null)).toBe(true);
    expect(changes.filter((c) => c!.finished)).toHaveLength(1);
    expect(changes.map((c) => Number(c!.batch!.completed)).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(await batchRow(batch.batchId)).toMatchObject({ status: 'completed', total: n, completed: n, failed: 0, stopped: 0 });
    expect(await callbackRows(batch.batchId)).toHaveLength(2); // then + finally, once each
    // A run ended twice is not counted twice.
    const again = await a.store.batches.run(() => programs.completeMember(a.store.batches.sql, { jobId: claimed[0].jobId, batchId: batch.batchId, key: null }, completionOf(claimed[0]), 'w', a.store.batches.endsMembersInOneStatement));
    expect(again).toBeNull();
    expect(Number((await batchRow(batch.batchId)).completed)).toBe(n);
  });

  it('completions of several batches in one transaction: each counted once, each batch ended once, from two stores at once', async () => {
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        createBatch(
          i % 2
            ? Array.from({ length: 8 }, () => ({ job: 'contract', payload: {} }))
            : [...Array.from({ length: 7 }, (_, k) => ({ job: 'contract', payload: {}, key: `k${k}` })), { job: 'contract', payload: {}, key: 'join', dependsOn: ['k0', 'k6'] }],
        ),
      ),
    );
    const of = new Map(batches.flatMap(({ batch, rows }, i) => rows.map((r, k) => [r.jobId, { batchId: batch.batchId, key: i % 2 ? null : k < 7 ? `k${k}` : 'join' }])));
    const completeGroup = (s: StoreUnderTest, jobs: Awaited<ReturnType<typeof claimAll>>) =>
      s.store.batches.run(() =>
        programs.completeMembers(
          s.store.batches.sql,
          jobs.map((job) => ({ member: { jobId: job.jobId, ...of.get(job.jobId)! }, completion: completionOf(job) })),
          'w',
          s.store.batches.endsMembersInOneStatement,
        ),
      );
    const ended: Array<{ done: string[]; changes: programs.BatchChange[] }> = [];
    for (;;) {
      const claimed = await claimAll(batches.length * 8);
      if (!claimed.length) break;
      // Groups that mix batches, sent from both stores at once (and one job in two groups: counted once).
      const groups = Array.from({ length: 5 }, (_, g) => claimed.filter((_, i) => i % 5 === g));
      groups[0].push(claimed[claimed.length - 1]);
      ended.push(...(await Promise.all(groups.map((group, g) => completeGroup(g % 2 ? b : a, group)))));
    }
    expect(ended.flatMap((e) => e.done).sort()).toEqual([...of.keys()].sort());
    expect(ended.flatMap((e) => e.changes).filter((c) => c.finished).map((c) => c.batch!.batch_id).sort()).toEqual(batches.map((x) => x.batch.batchId).sort());
    for (const { batch } of batches) {
      expect(await batchRow(batch.batchId)).toMatchObject({ status: 'completed', total: 8, completed: 8, failed: 0, stopped: 0 });
      expect(await callbackRows(batch.batchId)).toHaveLength(2); // then + finally, once each
    }
  });

  it('frees a join exactly when its last dependency completes, however many complete at once', async () => {
    const deps = 24;
    const items: BatchItem[] = [
      ...Array.from({ length: deps }, (_, i) => ({ job: 'contract', payload: {}, key: `d${i}` })),
      { job: 'contract', payload: {}, key: 'join', dependsOn: Array.from({ length: deps }, (_, i) => `d${i}`) },
    ];
    const { batch, rows } = await createBatch(items);
    const join = rows[deps].jobId;
    const claimed = await claimAll(deps + 1);
    expect(claimed.map((j) => j.jobId)).not.toContain(join); // waiting: never claimed
    await Promise.all(
      claimed.map((job, i) => {
        const s = i % 2 ? b : a;
        return s.store.batches.run(() => programs.completeMember(s.store.batches.sql, { jobId: job.jobId, batchId: batch.batchId, key: null }, completionOf(job), 'w', s.store.batches.endsMembersInOneStatement));
      }),
    );
    const [row] = await a.dataSource.query(`SELECT status FROM managed_jobs WHERE job_id = '${join}'`);
    expect(row.status).toBe('pending');
    expect(await claimAll(1)).toEqual([expect.objectContaining({ jobId: join, batchId: batch.batchId, batchKey: 'join' })]);
  });

  // A member's completion that waited for the batch lock while ctx.batch.add() held it must see the
  // dependent added meanwhile (PostgreSQL's one-statement completion reads with a snapshot older than
  // the lock it waited for). SQLite runs one write transaction at a time: nothing to interleave.
  (fixture.name === 'sqlite' ? it.skip : it)('a completion that waited for ctx.batch.add() frees the dependent it added on the completing member', async () => {
    const { batch } = await createBatch([
      { job: 'contract', payload: {}, key: 'root' },
      { job: 'contract', payload: {}, key: 'other' },
    ]);
    const root = (await claimAll(2)).find((j) => j.batchKey === 'root')!;
    const late = [newJob()];
    const adds: BatchItem[] = [{ job: 'contract', payload: {}, key: 'late', dependsOn: ['root'] }];
    const pause = fixture.name === 'postgres' ? 'SELECT pg_sleep(0.6)' : 'SELECT SLEEP(0.6)';
    function* addingThenHolding() {
      const after = yield* programs.addMembers(a.store.batches.sql, batch.batchId, (existing) => planMembers(adds, late, existing), ['root']);
      yield { op: 'all' as const, q: { text: pause, values: [] } }; // the batch stays locked, the new member uncommitted
      return after;
    }
    const adding = a.store.batches.run(addingThenHolding);
    await new Promise((r) => setTimeout(r, 250));
    const completing = b.store.batches.run(() =>
      programs.completeMember(b.store.batches.sql, { jobId: root.jobId, batchId: batch.batchId, key: 'root' }, completionOf(root), 'w', b.store.batches.endsMembersInOneStatement),
    );
    const [, change] = await Promise.all([adding, completing]);
    expect(change!.queued).toBe(true);
    const [row] = await a.dataSource.query(`SELECT status FROM managed_jobs WHERE job_id = '${late[0].jobId}'`);
    expect(row.status).toBe('pending');
  });

  it('concurrent final failures under failFast: one ends the batch, catch and finally once, the rest counted', async () => {
    const n = 20;
    const { batch } = await createBatch(Array.from({ length: n }, () => ({ job: 'contract', payload: {} })));
    const claimed = await claimAll(n);
    const ends = await Promise.all(
      claimed.map((job, i) => {
        const s = i % 2 ? b : a;
        return s.store.batches.run(() =>
          programs.failMember(s.store.batches.sql, { jobId: job.jobId, batchId: batch.batchId, key: null }, failureOf(job, { retryInSeconds: null }), 'w'),
        );
      }),
    );
    expect(ends.filter((e) => e?.change?.finished)).toHaveLength(1);
    const row = await batchRow(batch.batchId);
    expect(row.status).toBe('failed');
    // Each member ended once: failed by its own run, or stopped by the first failure before it.
    expect(Number(row.failed) + Number(row.stopped)).toBe(n);
    expect(Number(row.failed)).toBeGreaterThanOrEqual(1);
    expect(await callbackRows(batch.batchId)).toHaveLength(2); // catch + finally
  });
});
