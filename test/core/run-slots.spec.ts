import v8 from 'node:v8';
import vm from 'node:vm';
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import type { ActiveRun } from '../../lib/worker/active-run.js';
import { InFlight } from '../../lib/worker/in-flight.js';
import { RunSlots } from '../../lib/worker/run-slots.js';

const runOf = (jobId: string, fence = 1): ActiveRun => ({ job: { jobId, fence } as ActiveRun['job'], registered: {} as ActiveRun['registered'], handler: Promise.resolve({ ok: true, value: undefined }) });

describe('RunSlots (the runs holding a slot)', () => {
  it('reuses the cells of runs that left, counts, lists and finds by job id', () => {
    const slots = new RunSlots();
    const [a, b, c] = [runOf('a'), runOf('b'), runOf('c')];
    slots.add(a);
    slots.add(b);
    slots.delete(a);
    slots.add(c);
    expect(c.slot).toBe(a.slot); // a's cell, not a new one
    expect(slots.size).toBe(2);
    expect(slots.values()).toEqual([c, b]);
    expect(slots.ofJob('b')).toEqual([b]);
    expect(slots.ofJob('a')).toEqual([]);
  });

  it('takes out only the run itself: a second delete, or one of a run whose cell was reused, changes nothing', () => {
    const slots = new RunSlots();
    const first = runOf('job', 1);
    slots.add(first);
    slots.delete(first);
    const again = runOf('job', 2); // the same job, claimed again: first's cell
    slots.add(again);
    slots.delete(first);
    expect(slots.size).toBe(1);
    expect(slots.ofJob('job')).toEqual([again]);
  });

  it('does not drag runs that left into the old generation the way a churned long-lived Map does', async () => {
    // The reason RunSlots exists (issue 19): ~10 live runs, one in and one out per job. Measured here
    // as the old space's growth over 50,000 runs after a full GC (a Map promoted ~15× more). A full
    // GC during the loop would hide the growth: such a try is taken again.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const majorGcs: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs.push(e.startTime);
    });
    observer.observe({ entryTypes: ['gc'] });
    const churn = async (container: { add(run: ActiveRun): void; delete(run: ActiveRun): void }): Promise<number> => {
      for (let attempt = 0; ; attempt++) {
        gc();
        const t0 = performance.now();
        const before = oldSpaceUsed();
        const live: ActiveRun[] = [];
        for (let i = 0; i < 50_000; i++) {
          const run = runOf(`job-${i}`);
          (run as unknown as { data: number[] }).data = new Array(60).fill(i);
          container.add(run);
          live.push(run);
          if (live.length > 10) container.delete(live.shift()!);
        }
        const grown = oldSpaceUsed() - before;
        await new Promise((r) => setTimeout(r, 20)); // the GC entries of the loop arrive
        if (!majorGcs.some((t) => t > t0) || attempt === 4) return grown;
      }
    };
    try {
      const map = new Map<string, ActiveRun>();
      gc(); // the containers are old, as a worker's are after its first minutes
      const viaMap = await churn({ add: (r) => map.set(r.job.jobId, r), delete: (r) => map.delete(r.job.jobId) });
      const viaSlots = await churn(new RunSlots());
      expect(viaMap).toBeGreaterThan(4 * 2 ** 20); // the control: the effect is there to see
      expect(viaSlots).toBeLessThan(viaMap / 4);
    } finally {
      observer.disconnect();
    }
  });
});

describe('InFlight', () => {
  it('settles once every tracked promise settled, including ones tracked while waiting', async () => {
    const inFlight = new InFlight();
    await inFlight.settled(); // nothing tracked: at once
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    inFlight.track(first);
    let done = false;
    const settled = inFlight.settled().then(() => (done = true));
    let releaseLate!: () => void;
    inFlight.track(new Promise<void>((r) => (releaseLate = r)));
    release();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false); // the late one is still pending
    releaseLate();
    await settled;
    expect(done).toBe(true);
  });
});

function oldSpaceUsed(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
}
