/**
 * The store contract, continued: the trace context carried by a job row (telemetry) and the reads
 * for metrics and health checks (`MonitoringStore`), on every dialect.
 */
import type { EntityManager } from 'typeorm';
import type { JobStore } from '../../lib/store/job-store.interface.js';
import { storeFixtures, type StoreUnderTest } from './store-fixture.js';
import { claimOf, completionOf, newJob, sleep, wipe } from './store-helpers.js';

const TRACE = JSON.stringify({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });

describe.each(storeFixtures)('store contract (trace context, monitoring) on $name', (fixture) => {
  let ds: StoreUnderTest['dataSource'];
  let store: JobStore;

  beforeAll(() => fixture.setUp());
  afterAll(() => fixture.tearDown());

  beforeEach(async () => {
    ({ dataSource: ds, store } = await fixture.openStore());
    await wipe(ds);
  });

  afterEach(() => fixture.closeStores());

  describe('trace context', () => {
    it('is stored by single, uniform and mixed inserts (and through a caller’s transaction), and comes back with the claimed row', async () => {
      const [single] = await store.insert([newJob({ traceContext: TRACE })]);
      expect(single.traceContext).toBe(TRACE);
      const uniform = await store.insert([newJob({ traceContext: TRACE }), newJob({ traceContext: TRACE })]);
      const mixed = await store.insert([newJob({ traceContext: TRACE, priority: 1 }), newJob({ traceContext: null }), newJob()]);
      const [inTx] = await ds.transaction((manager: EntityManager) => store.insert([newJob({ traceContext: TRACE, queue: 'tx' })], manager));
      expect((await store.find(inTx.jobId))!.traceContext).toBe(TRACE);

      const claimed = [...(await store.claim(claimOf({ limit: 10 })))];
      const byId = new Map(claimed.map((j) => [j.jobId, j.traceContext]));
      expect([single, ...uniform, ...mixed].map((j) => byId.get(j.jobId))).toEqual([TRACE, TRACE, TRACE, TRACE, null, null]);

      // Through the busy worker's complete-and-claim as well.
      const [next] = await store.insert([newJob({ traceContext: TRACE })]);
      const { claimed: again } = await store.completeAndClaim([completionOf(claimed[0])], claimOf({ limit: 1 }));
      expect(again.map((j) => [j.jobId, j.traceContext])).toEqual([[next.jobId, TRACE]]);
    });
  });

  describe('monitoring', () => {
    it('counts pending and running jobs per queue, leaving finished ones out', async () => {
      expect(await store.queueDepth()).toEqual([]);
      await store.insert([newJob(), newJob(), newJob(), newJob({ queue: 'mail' }), newJob({ delayMs: 60_000 })]);
      const [a, b] = await store.claim(claimOf({ limit: 2 }));
      await store.complete([completionOf(a)], 'worker-a');
      const depth = (await store.queueDepth()).sort((x, y) => `${x.queue}${x.status}`.localeCompare(`${y.queue}${y.status}`));
      expect(depth).toEqual([
        { queue: 'default', status: 'pending', count: 2 },
        { queue: 'default', status: 'running', count: 1 },
        { queue: 'mail', status: 'pending', count: 1 },
      ]);
      expect(b.status).toBe('running');
    });

    it('says how long the oldest due pending job of the given queues has waited (null when none is due)', async () => {
      expect(await store.oldestDueAgeMs(['default'])).toBeNull();
      await store.insert([newJob({ delayMs: 60_000 })]);
      expect(await store.oldestDueAgeMs(['default'])).toBeNull(); // not due yet
      await store.insert([newJob({ availableAt: new Date(Date.now() - 5_000) })]);
      await store.insert([newJob({ queue: 'mail', availableAt: new Date(Date.now() - 60_000) })]);
      await sleep(20);
      const age = (await store.oldestDueAgeMs(['default']))!;
      expect(age).toBeGreaterThan(4_000);
      expect(age).toBeLessThan(30_000);
      expect(await store.oldestDueAgeMs(['default', 'mail'])).toBeGreaterThan(55_000);
      expect(await store.oldestDueAgeMs(['other'])).toBeNull();
      // A claimed job no longer waits.
      await store.claim(claimOf({ limit: 10 }));
      expect(await store.oldestDueAgeMs(['default'])).toBeNull();
    });
  });
});
