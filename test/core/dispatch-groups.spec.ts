import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus } from '../../lib/index.js';
import { JOB_STORE } from '../../lib/managed-jobs.constants.js';
import type { JobStore, NewJob } from '../../lib/store/job-store.interface.js';
import { createTestDatabase, dialects, type Dialect, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { allJobs, LongJob } from '../fixtures/jobs.js';
import { PerKeyTwoJob, QueueProbe, RateJob, UniqueSyncJob } from '../queue/queue-jobs.js';

/** A real constraint of the database that refuses one row: a payload holding `poison`. */
const POISON = {
  sqlite: {
    add: `CREATE TRIGGER nmj_test_poison BEFORE INSERT ON managed_jobs WHEN NEW.payload LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`,
    drop: `DROP TRIGGER nmj_test_poison`,
  },
  postgres: {
    add: `ALTER TABLE managed_jobs ADD CONSTRAINT nmj_test_poison CHECK (payload::text NOT LIKE '%poison%')`,
    drop: `ALTER TABLE managed_jobs DROP CONSTRAINT nmj_test_poison`,
  },
  mariadb: {
    add: `ALTER TABLE managed_jobs ADD CONSTRAINT nmj_test_poison CHECK (payload IS NULL OR payload NOT LIKE '%poison%')`,
    drop: `ALTER TABLE managed_jobs DROP CONSTRAINT nmj_test_poison`,
  },
} satisfies Record<Dialect, { add: string; drop: string }>;

/** What a caller gets back from a dispatch must be what is stored. */
const FIELDS = ['jobId', 'type', 'queue', 'status', 'priority', 'payload', 'ownerUserId', 'attempts', 'maxAttempts', 'availableAt', 'createdAt'] as const;
const record = (job: any) => Object.fromEntries(FIELDS.map((f) => [f, job?.[f] instanceof Date ? job[f].toISOString() : job?.[f]]));

describe.each(dialects)('concurrent dispatches sharing a commit on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let ds: DataSource;
  /** The row counts of every store insert outside a caller's transaction (the real store, counted, not replaced). */
  let inserts: number[][];
  /** The same for the inserts of jobs with keys (unique, concurrency, rate): how many rows each wrote. */
  let keyedInserts: number[];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: [...allJobs, QueueProbe, UniqueSyncJob, PerKeyTwoJob, RateJob], options: { worker: { enabled: false } } });
    runner = app.get(JobRunnerService);
    ds = app.get(DataSource);
    const store = app.get<JobStore>(JOB_STORE);
    const insert = store.insert.bind(store);
    store.insert = (jobs: NewJob[], manager, wakeOrigin) => {
      if (!manager) inserts.push(jobs.map(() => 1));
      if (!manager && jobs.some((j) => j.keys)) keyedInserts.push(jobs.length);
      return insert(jobs, manager, wakeOrigin);
    };
  });

  beforeEach(() => {
    inserts = [];
    keyedInserts = [];
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const count = async (where = '1 = 1') => Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE ${where}`))[0].n);

  it('50 concurrent dispatches each resolve with their own job, every row stored, in fewer statements than jobs', async () => {
    const before = await count();
    const jobs = await Promise.all(Array.from({ length: 50 }, (_, i) => runner.dispatch(LongJob, { maxMs: i }, { priority: i % 3 })));

    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(50);
    jobs.forEach((job, i) => expect(job).toMatchObject({ payload: { maxMs: i }, priority: i % 3, status: JobStatus.Pending }));
    expect(await count()).toBe(before + 50);
    for (const job of jobs) expect(record(await runner.find(job.jobId))).toEqual(record(job));
    // They were grouped: the first went alone, the rest queued up behind it.
    expect(inserts.length).toBeLessThan(50);
    expect(inserts.flat()).toHaveLength(50);
  });

  it('a lone dispatch is written at once, alone', async () => {
    const job = await runner.dispatch(LongJob, { maxMs: 1 });
    expect(inserts).toEqual([[1]]);
    expect(await runner.find(job.jobId)).not.toBeNull();
  });

  it('a row the database refuses fails its own dispatch only; the others of its group are stored', async () => {
    await ds.query(POISON[dialect].add);
    try {
      const before = await count();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => runner.dispatch(LongJob, i === 7 ? ({ maxMs: 7, note: 'poison' } as any) : { maxMs: i })),
      );
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      expect(failed).toEqual([7]);
      const stored = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(new Set(stored.map((j) => j.jobId)).size).toBe(19);
      for (const job of stored) expect(record(await runner.find(job.jobId))).toEqual(record(job));
      expect(await count()).toBe(before + 19);
      // The poisoned row was in a group of several (so its failure did hit others, which were written again alone).
      expect(inserts.some((rows) => rows.length > 1)).toBe(true);
    } finally {
      await ds.query(POISON[dialect].drop);
    }
  });

  it("a dispatch inside a caller's transaction is never merged: rolled back, it leaves nothing, while concurrent plain dispatches land", async () => {
    let inTransaction: string | undefined;
    const plain: Promise<{ jobId: string }>[] = [];
    const fire = (n: number) => {
      for (let i = 0; i < n; i++) plain.push(runner.dispatch(LongJob, { maxMs: 100 + i }));
    };
    await expect(
      ds.transaction(async (manager) => {
        fire(10);
        const tx = runner.dispatch(LongJob, { maxMs: 99 }, { manager });
        fire(10);
        inTransaction = (await tx).jobId;
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    // Awaited after the rollback: on SQLite our connection waits for the caller's write lock.
    const landed = await Promise.all(plain);

    expect(inTransaction).toBeDefined();
    expect(await runner.find(inTransaction!)).toBeNull();
    expect(new Set(landed.map((j) => j.jobId)).size).toBe(20);
    for (const job of landed) expect(await runner.find(job.jobId)).not.toBeNull();
  });

  it('unique dispatches under concurrency: exactly one row per key, and every caller gets it', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0 ? runner.dispatch(LongJob, { maxMs: i }) : runner.dispatch(LongJob, { maxMs: i }, { uniqueKey: `key-${i % 3}` }),
      ),
    );
    const byKey = new Map<string, Set<string>>();
    results.forEach((job, i) => {
      if (i % 3 === 0) return expect(job.uniqueKey).toBeNull();
      const key = `key-${i % 3}`;
      expect(job.uniqueKey).toBe(key);
      byKey.set(key, (byKey.get(key) ?? new Set()).add(job.jobId));
    });
    expect([...byKey.values()].map((ids) => ids.size)).toEqual([1, 1]);
    for (const key of ['key-1', 'key-2']) {
      expect(await count(`type = 'long' AND unique_key = '${key}'`)).toBe(1);
      const [holder] = [...byKey.get(key)!];
      expect((await runner.find(holder))?.uniqueKey).toBe(key);
    }
    // The plain ones among them each got their own row.
    const plainIds = results.filter((_, i) => i % 3 === 0).map((j) => j.jobId);
    expect(new Set(plainIds).size).toBe(10);
    for (const id of plainIds) expect(await runner.find(id)).not.toBeNull();
  });

  it('grouped unique dispatches: callers of one key get one row, the holder, in the first wave and the next', async () => {
    const keys = ['g0', 'g1', 'g2', 'g3', 'g4'];
    // Delayed: they stay pending (holders) whatever runs meanwhile.
    const wave = () => Promise.all(Array.from({ length: 30 }, (_, i) => runner.dispatch(UniqueSyncJob, { key: keys[i % 5] }, { delayMs: 60_000 })));
    const first = await wave();
    const holderOf = new Map<string, string>();
    first.forEach((job, i) => {
      expect(job.uniqueKey).toBe(keys[i % 5]);
      expect(job.status).toBe(JobStatus.Pending);
      const holder = holderOf.get(job.uniqueKey!) ?? job.jobId;
      holderOf.set(job.uniqueKey!, holder);
      expect(job.jobId).toBe(holder);
    });
    for (const key of keys) {
      expect(await count(`type = 'unique-sync' AND unique_key = '${key}'`)).toBe(1);
      expect(record(await runner.find(holderOf.get(key)!))).toEqual(record(first.find((j) => j.uniqueKey === key)));
    }
    // They shared commits: fewer inserts than dispatches, some of several rows (one key several times among them).
    expect(keyedInserts.length).toBeLessThan(30);
    expect(keyedInserts.some((rows) => rows > 5)).toBe(true);
    expect(keyedInserts.reduce((a, b) => a + b, 0)).toBe(30);

    const second = await wave();
    second.forEach((job, i) => expect(job.jobId).toBe(holderOf.get(keys[i % 5])));
    expect(await count(`type = 'unique-sync'`)).toBe(5);
  });

  it('mixed keys in one group: unique, concurrency and rate jobs and plain ones, each stored with its keys, key rows and tokens ensured', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        switch (i % 4) {
          case 0:
            return runner.dispatch(UniqueSyncJob, { key: `mixed-${i % 8}` }, { delayMs: 60_000 });
          case 1:
            return runner.dispatch(PerKeyTwoJob, { key: `ck-${i % 3}` });
          case 2:
            return runner.dispatch(RateJob, { key: `rk-${i % 5}` });
          default:
            return runner.dispatch(LongJob, { maxMs: i });
        }
      }),
    );
    results.forEach((job, i) => {
      if (i % 4 === 0) expect(job.uniqueKey).toBe(`mixed-${i % 8}`);
      if (i % 4 === 1) expect(job.concurrencyKey).toBe(`ck-${i % 3}`);
      if (i % 4 === 2) expect(job.rateKey).toBe(`rk-${i % 5}`);
    });
    // Two unique keys (mixed-0, mixed-4), each one row; every other job its own row.
    const uniqueIds = new Set(results.filter((_, i) => i % 4 === 0).map((j) => j.jobId));
    expect(uniqueIds.size).toBe(2);
    expect(new Set(results.filter((_, i) => i % 4 !== 0).map((j) => j.jobId)).size).toBe(18);
    for (const job of results) expect(record(await runner.find(job.jobId))).toEqual(record(job));
    const keyRows = await ds.query(`SELECT type, key_name FROM managed_job_keys WHERE type IN ('per-key-2', 'rate-3-per-s') ORDER BY type, key_name`);
    expect(keyRows.map((r: any) => `${r.type}/${r.key_name}`)).toEqual([
      ...['ck-0', 'ck-1', 'ck-2'].map((k) => `per-key-2/${k}`),
      ...['rk-0', 'rk-1', 'rk-2', 'rk-3', 'rk-4'].filter((k) => results.some((j) => j.rateKey === k)).map((k) => `rate-3-per-s/${k}`),
    ]);
    const tokens = await ds.query(`SELECT key_name, count(*) AS n FROM managed_job_rate_tokens WHERE type = 'rate-3-per-s' GROUP BY key_name`);
    for (const t of tokens) expect(Number(t.n)).toBe(3);
    expect(keyedInserts.some((rows) => rows > 1)).toBe(true);
  });

  it('a keyed row the database refuses fails its own dispatch only; the others of its group are stored, duplicates still one row', async () => {
    await ds.query(POISON[dialect].add);
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          i === 7
            ? runner.dispatch(UniqueSyncJob, { key: 'bad', note: 'poison' } as any, { delayMs: 60_000 })
            : runner.dispatch(UniqueSyncJob, { key: `ok-${i % 10}` }, { delayMs: 60_000 }),
        ),
      );
      expect(results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []))).toEqual([7]);
      const stored = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      // ok-0 … ok-9, each dispatched twice (ok-7 once): ten rows, each pair one job.
      expect(new Set(stored.map((j) => j.jobId)).size).toBe(10);
      for (const job of stored) expect(record(await runner.find(job.jobId))).toEqual(record(job));
      expect(await count(`type = 'unique-sync' AND unique_key LIKE 'ok-%'`)).toBe(10);
      expect(await count(`unique_key = 'bad'`)).toBe(0);
      expect(keyedInserts.some((rows) => rows > 1)).toBe(true);
    } finally {
      await ds.query(POISON[dialect].drop);
    }
  });
});
