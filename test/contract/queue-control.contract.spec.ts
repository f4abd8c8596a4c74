/**
 * Store contract for unique jobs, concurrency keys and rate limits (`insert` of jobs with keys,
 * `claimLimited`), on every dialect, with racing claims from two stores (two "processes").
 */
import type { JobStore, LimitedClaimRequest, NewJob } from '../../lib/store/job-store.interface.js';
import { storeFixtures, type StoreUnderTest } from './store-fixture.js';
import { newJob, sleep, wipe } from './store-helpers.js';

const log = (label: string, figures: unknown) => process.stderr.write(`\n[queue-control] ${label}: ${JSON.stringify(figures)}\n`);

function keyed(keys: Partial<NonNullable<NewJob['keys']>>, overrides: Partial<NewJob> = {}): NewJob {
  return newJob({
    type: 'limited',
    ...overrides,
    keys: { uniqueKey: null, uniqueUntil: null, concurrencyKey: null, rateKey: null, rateSlots: 0, ...keys },
  });
}

function limitedOf(overrides: Partial<LimitedClaimRequest> = {}): LimitedClaimRequest {
  return { queue: 'default', types: ['limited'], type: 'limited', limit: 10, workerId: 'w', leaseMs: 60_000, concurrency: null, rate: null, ...overrides };
}

describe.each(storeFixtures)('queue-control store contract on $name', (fixture) => {
  let ds: StoreUnderTest['dataSource'];
  let store: JobStore;

  beforeAll(() => fixture.setUp());
  afterAll(() => fixture.tearDown());

  beforeEach(async () => {
    ({ dataSource: ds, store } = await fixture.openStore());
    await wipe(ds);
    for (const table of ['managed_job_keys', 'managed_job_rate_tokens']) await ds.query(`DELETE FROM ${table}`);
    if (fixture.name === 'mariadb') await ds.query(`DELETE FROM managed_job_unique_holds`);
  });

  afterEach(() => fixture.closeStores());

  const count = async (where: string) => Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE ${where}`))[0].n);

  describe('insert of unique jobs', () => {
    it('skips a job whose key is held and returns the holder, in a batch and across stores racing', async () => {
      const [a, b, a2] = await store.insert([keyed({ uniqueKey: 'k1', uniqueUntil: 'finished' }), keyed({ uniqueKey: 'k2', uniqueUntil: 'finished' }), keyed({ uniqueKey: 'k1', uniqueUntil: 'finished' })]);
      expect(a2.jobId).toBe(a.jobId);
      expect(b.jobId).not.toBe(a.jobId);
      const { store: other } = await fixture.openStore();
      const racing = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? store : other).insert([keyed({ uniqueKey: 'race', uniqueUntil: 'finished' })])),
      );
      expect(new Set(racing.flat().map((j) => j.jobId)).size).toBe(1);
      expect(await count(`unique_key = 'race'`)).toBe(1);
    });

    it('a job that finished lets go of its key; with until started, a running one does too', async () => {
      const [held] = await store.insert([keyed({ uniqueKey: 's', uniqueUntil: 'started' })]);
      const [run] = await store.claim({ queue: 'default', types: ['limited'], limit: 1, workerId: 'w', leaseMs: 60_000 });
      expect(run.jobId).toBe(held.jobId);
      const [next] = await store.insert([keyed({ uniqueKey: 's', uniqueUntil: 'started' })]);
      expect(next.jobId).not.toBe(held.jobId);
      await store.complete([{ jobId: run.jobId, fence: run.fence, result: null, progress: 100, message: null }], 'w');
      await store.stop(next.jobId);
      const [third] = await store.insert([keyed({ uniqueKey: 's', uniqueUntil: 'started' })]);
      expect([held.jobId, next.jobId]).not.toContain(third.jobId);
    });

    it('several rows with mixed keys in one call: a record per row in order, one row per unique key, key rows and tokens ensured once', async () => {
      const rows = [
        keyed({ uniqueKey: 'm2', uniqueUntil: 'finished' }),
        keyed({ concurrencyKey: 'c1' }),
        keyed({ uniqueKey: 'm1', uniqueUntil: 'finished', concurrencyKey: 'c1' }),
        keyed({ rateKey: 'r1', rateSlots: 4 }),
        keyed({ uniqueKey: 'm2', uniqueUntil: 'finished', rateKey: 'r1', rateSlots: 4 }),
        keyed({ uniqueKey: 'm1', uniqueUntil: 'finished' }),
        keyed({ concurrencyKey: 'c2' }),
      ];
      const saved = await store.insert(rows);
      expect(saved).toHaveLength(rows.length);
      // Each unique row is its own job or its key's holder; a plain keyed row is its own.
      expect(saved[4].jobId).toBe(saved[0].jobId);
      expect(saved[5].jobId).toBe(saved[2].jobId);
      for (const i of [0, 1, 2, 3, 6]) expect(saved[i].jobId).toBe(rows[i].jobId);
      expect(saved[5].concurrencyKey).toBe('c1');
      expect(await count(`unique_key IS NOT NULL`)).toBe(2);
      expect(await count(`1 = 1`)).toBe(5);
      const keys = await ds.query(`SELECT key_name FROM managed_job_keys ORDER BY key_name`);
      expect(keys.map((r: any) => r.key_name)).toEqual(['c1', 'c2', 'r1']);
      expect(Number((await ds.query(`SELECT count(*) AS n FROM managed_job_rate_tokens WHERE key_name = 'r1'`))[0].n)).toBe(4);
    });

    it('through an EntityManager, a rollback leaves no job and no hold of its key', async () => {
      await ds
        .transaction(async (manager) => {
          await store.insert([keyed({ uniqueKey: 'tx', uniqueUntil: 'finished', concurrencyKey: 'c' })], manager);
          throw new Error('rollback');
        })
        .catch(() => undefined);
      expect(await count(`unique_key = 'tx'`)).toBe(0);
      const [fresh] = await store.insert([keyed({ uniqueKey: 'tx', uniqueUntil: 'finished' })]);
      expect(fresh.status).toBe('pending');
    });
  });

  describe('limited claim', () => {
    it('never more than the limit running per key, however claims from two stores race; round-robin between keys', async () => {
      const jobs: NewJob[] = [];
      for (const key of ['a', 'b', 'c', 'd', 'e']) for (let i = 0; i < 6; i++) jobs.push(keyed({ concurrencyKey: key }));
      await store.insert(jobs);
      const { store: other } = await fixture.openStore();
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).claimLimited(limitedOf({ concurrency: 2, limit: 4, workerId: `w${i}` }))),
      );
      const claimed = claims.flatMap((c) => c.jobs);
      expect(new Set(claimed.map((j) => j.jobId)).size).toBe(claimed.length);
      const running = await ds.query(`SELECT concurrency_key AS k, count(*) AS n FROM managed_jobs WHERE status = 'running' GROUP BY concurrency_key`);
      for (const r of running) expect(Number(r.n)).toBeLessThanOrEqual(2);
      expect(claims.every((c) => c.retryAt === null)).toBe(true);
      // once all are busy, a claim takes nothing
      await Promise.all([store.claimLimited(limitedOf({ concurrency: 2 })), other.claimLimited(limitedOf({ concurrency: 2 }))]);
      expect(await count(`status = 'running'`)).toBe(10);
      expect((await store.claimLimited(limitedOf({ concurrency: 2 }))).jobs).toEqual([]);
    });

    it("priority first; within a priority, each key's first job in the keys' turn, then each one's second", async () => {
      const job = (key: string, priority: number) => keyed({ concurrencyKey: key }, { priority });
      const a1 = job('a', 5), a2 = job('a', 5), a3 = job('a', 0), b1 = job('b', 0), b2 = job('b', 0), c1 = job('c', 5);
      await store.insert([a3, b1, a1, b2, c1, a2]);
      const { jobs } = await store.claimLimited(limitedOf({ concurrency: 3, limit: 4 }));
      // a's two of priority 5 and c's, then b's first (b's second and a's third come after it).
      expect(new Set(jobs.map((j) => j.jobId))).toEqual(new Set([a1, a2, c1, b1].map((j) => j.jobId)));
      const rest = await store.claimLimited(limitedOf({ concurrency: 3, limit: 10 }));
      expect(new Set(rest.jobs.map((j) => j.jobId))).toEqual(new Set([a3, b2].map((j) => j.jobId)));
    });

    it('completeAndClaimLimited (SQLite, PostgreSQL): the completions first, then the claim sees their keys free, in one transaction', async () => {
      if (fixture.name !== 'sqlite' && fixture.name !== 'postgres') return expect(store.completeAndClaimLimited).toBeUndefined();
      await store.insert([keyed({ concurrencyKey: 'one' }), keyed({ concurrencyKey: 'one' })]);
      const [first] = (await store.claimLimited(limitedOf({ concurrency: 1 }))).jobs;
      expect((await store.claimLimited(limitedOf({ concurrency: 1 }))).jobs).toEqual([]);
      const stale = { jobId: first.jobId, fence: first.fence + 1, result: null, progress: 100, message: null };
      const done = { jobId: first.jobId, fence: first.fence, result: null, progress: 100, message: null };
      // A completion that is no longer ours records nothing: the key stays busy.
      const none = await store.completeAndClaimLimited!([stale], limitedOf({ concurrency: 1 }));
      expect(none.completed).toEqual([]);
      expect(none.claimed.jobs).toEqual([]);
      // The completing worker's id is not the claim's lease owner ('w'): the ledger row names the one that ran it.
      const both = await store.completeAndClaimLimited!([done], limitedOf({ concurrency: 1, workerId: 'w2' }));
      expect(both.completed.map((c) => c.jobId)).toEqual([first.jobId]);
      expect(both.claimed.jobs).toHaveLength(1);
      expect(both.claimed.jobs[0].jobId).not.toBe(first.jobId);
      // the stored finish time, read back as the same moment (not merely some Date)
      const [{ finished }] = await ds.query(`SELECT CAST(finished_at AS TEXT) AS finished FROM managed_jobs WHERE job_id = '${first.jobId}'`);
      const stored = new Date(`${String(finished).replace(' ', 'T')}Z`);
      expect(both.completed[0].finishedAt.getTime()).toBe(stored.getTime());
      expect(Math.abs(stored.getTime() - Date.now())).toBeLessThan(60_000);
      expect(await count(`status = 'completed'`)).toBe(1);
      expect(await count(`status = 'running'`)).toBe(1);
      // the completion's ledger row, written by the same statement
      const ledger = await ds.query(`SELECT outcome, worker_id FROM managed_job_attempts WHERE job_id = '${first.jobId}'`);
      expect(ledger.map((r: any) => [r.outcome, r.worker_id])).toEqual([['completed', 'w2']]);
    });

    // MySQL/MariaDB send completions and limited claims apart (no completeAndClaimLimited: the case above checks it is absent).
    (fixture.name === 'sqlite' || fixture.name === 'postgres' ? it : it.skip)('completeAndClaimLimited of a rate-limited type: the completions and the claim in one commit', async () => {
      const rate = { max: 1, perSeconds: 60 };
      await store.insert([keyed({ rateKey: 'api', rateSlots: 1 }), keyed({ rateKey: 'api', rateSlots: 1 })]);
      const [first] = (await store.claimLimited(limitedOf({ rate }))).jobs;
      const done = { jobId: first.jobId, fence: first.fence, result: null, progress: 100, message: null };
      const both = await store.completeAndClaimLimited!([done], limitedOf({ rate }));
      expect(both.completed.map((c) => c.jobId)).toEqual([first.jobId]);
      // the window's one start is taken: nothing claimed, and the claim says when the window opens
      expect(both.claimed.jobs).toEqual([]);
      expect(both.claimed.retryAt!.getTime()).toBeGreaterThan(Date.now() + 50_000);
      expect(await count(`status = 'completed'`)).toBe(1);
      expect(await count(`status = 'pending'`)).toBe(1);
    });

    // A claim that fails (here: a trigger refusing every start) must take the completions sent with it
    // down too; recorded alone, a worker that retries the pair would finish a run twice.
    (fixture.name === 'sqlite' || fixture.name === 'postgres' ? it.each : it.skip.each)([
      ['concurrency-keyed', { concurrency: 1 }, { concurrencyKey: 'one' }],
      ['rate-limited', { rate: { max: 2, perSeconds: 60 } }, { rateKey: 'api', rateSlots: 2 }],
    ] as const)('completeAndClaimLimited (%s): when the claim fails, the completions are not recorded either', async (_kind, limits, keys) => {
      await store.insert([keyed(keys), keyed(keys)]);
      const [first] = (await store.claimLimited(limitedOf({ ...limits, limit: 1 }))).jobs;
      const done = { jobId: first.jobId, fence: first.fence, result: null, progress: 100, message: null };
      await injectClaimFailure();
      try {
        // by its message: better-sqlite3's errors come from the error class of the first test file that
        // loaded it in this jest process, which `rejects.toThrow` does not count as an Error here
        const failure: { message?: string } | null = await store.completeAndClaimLimited!([done], limitedOf(limits)).then(() => null, (e) => e);
        expect(failure?.message).toMatch(/injected claim failure/);
      } finally {
        await removeClaimFailure();
      }
      expect(await count(`status = 'running' AND job_id = '${first.jobId}' AND fence = ${first.fence}`)).toBe(1);
      expect(await count(`status = 'pending'`)).toBe(1);
      expect(Number((await ds.query(`SELECT count(*) AS n FROM managed_job_attempts`))[0].n)).toBe(0);
      // sent again, the pair goes through whole
      const both = await store.completeAndClaimLimited!([done], limitedOf(limits));
      expect(both.completed.map((c) => c.jobId)).toEqual([first.jobId]);
      expect(both.claimed.jobs).toHaveLength(1);
    });

    /** A trigger that refuses every start of a run (the claim's status change), until removed. */
    async function injectClaimFailure(): Promise<void> {
      if (fixture.name === 'sqlite') {
        await ds.query(`CREATE TRIGGER injected_claim_failure BEFORE UPDATE OF status ON managed_jobs WHEN NEW.status = 'running'
          BEGIN SELECT RAISE(ABORT, 'injected claim failure'); END`);
        return;
      }
      await ds.query(`CREATE FUNCTION injected_claim_failure() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected claim failure'; END $$`);
      await ds.query(`CREATE TRIGGER injected_claim_failure BEFORE UPDATE OF status ON managed_jobs
        FOR EACH ROW WHEN (NEW.status = 'running') EXECUTE FUNCTION injected_claim_failure()`);
    }

    async function removeClaimFailure(): Promise<void> {
      if (fixture.name === 'sqlite') return void (await ds.query(`DROP TRIGGER injected_claim_failure`));
      await ds.query(`DROP TRIGGER injected_claim_failure ON managed_jobs`);
      await ds.query(`DROP FUNCTION injected_claim_failure()`);
    }

    it('serves the least recently served key first', async () => {
      await store.insert([keyed({ concurrencyKey: 'x' }), keyed({ concurrencyKey: 'x' }), keyed({ concurrencyKey: 'y' })]);
      const first = await store.claimLimited(limitedOf({ concurrency: 5, limit: 1 }));
      const second = await store.claimLimited(limitedOf({ concurrency: 5, limit: 1 }));
      expect(new Set([first.jobs[0].concurrencyKey, second.jobs[0].concurrencyKey])).toEqual(new Set(['x', 'y']));
    });

    it('rate: at most `max` starts per window, racing; the claim says when the window opens', async () => {
      await store.insert(Array.from({ length: 10 }, () => keyed({ rateKey: 'api', rateSlots: 3 })));
      const { store: other } = await fixture.openStore();
      const rate = { max: 3, perSeconds: 2 };
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? store : other).claimLimited(limitedOf({ rate, limit: 2, workerId: `w${i}` }))));
      // racing claims skip the key another one holds: together at most `max`, then exactly `max`
      const raced = claims.flatMap((c) => c.jobs).length;
      expect(raced).toBeLessThanOrEqual(3);
      expect(raced).toBeGreaterThan(0);
      const rest = await store.claimLimited(limitedOf({ rate }));
      expect(raced + rest.jobs.length).toBe(3);
      const after = await store.claimLimited(limitedOf({ rate }));
      expect(after.jobs).toEqual([]);
      const [firstStart] = (await ds.query(`SELECT min(started_at) AS s FROM managed_jobs`)).map((r: any) => new Date(String(r.s instanceof Date ? r.s.toISOString() : `${String(r.s).replace(' ', 'T')}Z`)));
      expect(Math.abs(after.retryAt!.getTime() - (firstStart.getTime() + 2000))).toBeLessThan(50);
      // a smaller max later leaves the extra tokens unused; a larger one adds tokens at the next dispatch
      expect((await store.claimLimited(limitedOf({ rate: { max: 1, perSeconds: 2 } }))).jobs).toEqual([]);
    });

    /**
     * The fastest of 7 claims of one due job of `key`, each completed after: robust to a loaded
     * machine (a scan of 100k entries or keys cannot be fast even once).
     */
    const fastestClaim = async (key: string) => {
      const times = [];
      for (let i = 0; i < 7; i++) {
        // Due a second ago: a job inserted "now" (rounded up to the millisecond) may not be due within the same millisecond.
        await store.insert([keyed({ concurrencyKey: key }, { availableAt: new Date(Date.now() - 1000) })]);
        const started = process.hrtime.bigint();
        const { jobs } = await store.claimLimited(limitedOf({ concurrency: 1, limit: 10 }));
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
        expect(jobs.map((j) => j.concurrencyKey)).toEqual([key]);
        await store.complete([{ jobId: jobs[0].jobId, fence: jobs[0].fence, result: null, progress: 100, message: null }], 'w');
      }
      return Math.min(...times);
    };

    it(`claim cost does not grow with a busy key's pending jobs (measured with 100k)`, async () => {
      await store.insert([keyed({ concurrencyKey: 'busy' })]);
      const [busy] = await store.claimLimited(limitedOf({ concurrency: 1, limit: 1 })).then((c) => c.jobs);
      expect(busy.concurrencyKey).toBe('busy');
      const addPending = async (n: number) => {
        for (let done = 0; done < n; done += 10_000) {
          await store.insert(Array.from({ length: Math.min(10_000, n - done) }, () => newJob({ type: 'limited' })));
        }
        await ds.query(`UPDATE managed_jobs SET concurrency_key = 'busy' WHERE concurrency_key IS NULL`);
      };
      await addPending(100);
      const small = await fastestClaim('free');
      await addPending(100_000 - 100);
      await ds.query(fixture.name === 'postgres' ? 'ANALYZE managed_jobs' : fixture.name === 'sqlite' ? 'ANALYZE' : 'ANALYZE TABLE managed_jobs');
      const big = await fastestClaim('free');
      log(`${fixture.name}: limited claim with a busy key of 100 vs 100k pending jobs (fastest of 7, ms)`, { small: +small.toFixed(2), big: +big.toFixed(2) });
      expect(await count(`status = 'pending' AND concurrency_key = 'busy'`)).toBe(100_000);
      expect(big).toBeLessThan(5 * small + 10);
    }, 240_000);

    // MySQL/MariaDB still probe every key row for a due job (their key index holds every status, so
    // a walk from key to key would read each key's finished jobs): README, "Unique jobs, concurrency
    // keys and rate limits", says so.
    const walksDueKeys = fixture.name === 'sqlite' || fixture.name === 'postgres';
    (walksDueKeys ? it : it.skip)(`claim cost does not grow with the keys of past jobs (10,000 keys with nothing queued)`, async () => {
      const small = await fastestClaim('live');
      // 10,000 tenants that each ran once: a key row each, every job finished.
      for (let done = 0; done < 10_000; done += 1_000) {
        await store.insert(Array.from({ length: 1_000 }, (_, i) => keyed({ concurrencyKey: `past-${done + i}` })));
      }
      await ds.query(`UPDATE managed_jobs SET status = 'completed' WHERE status = 'pending'`);
      await ds.query('ANALYZE');
      // SQLite: the 10,000 inserts left a long write-ahead log, whose checkpoint would land in the timed claims' commits.
      if (fixture.name === 'sqlite') await ds.query('PRAGMA wal_checkpoint(TRUNCATE)');
      const big = await fastestClaim('live');
      log(`${fixture.name}: limited claim with 0 vs 10,000 keys of past jobs (fastest of 7, ms)`, { small: +small.toFixed(2), big: +big.toFixed(2) });
      expect(await ds.query(`SELECT count(*) AS n FROM managed_job_keys`).then((r: any[]) => Number(r[0].n))).toBe(10_001);
      expect(big).toBeLessThan(3 * small + 2);
    }, 240_000);
  });
});
