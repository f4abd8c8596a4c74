import type { ActiveRun } from './active-run.js';

/**
 * The runs holding a slot, in an array whose cells are reused (a run keeps its cell's index), not a
 * `Map` keyed by job id.
 *
 * Why (issue 19, memory): a worker's RSS grew all along a drain while its live heap stayed at 32 MB.
 * `bench/run.mjs --quick --only=memory1M`, RSS growth from 25% to 100% of 100,000 jobs, medians of 3
 * alternated runs: SQLite +69.0 MB before, +2.4 after; PostgreSQL +39.6 before, -0.1 after (end RSS
 * 259 → 169 and 250 → 158 MB; bench/results/2026-12-01_ab-memory.md). A long-lived `Map` or
 * `Set` whose entries churn (one in, one out per job) is rebuilt by V8 every few insertions, and
 * once it lives in the old generation each rebuilt table is allocated there too; the table it
 * replaces still points at the entries it held. Minor GCs take any old-to-young pointer as live,
 * so every run that sat in a replaced table (nearly all of them: ~2.3 KB a job, measured with
 * V8's sampling heap profiler keeping objects freed by major GCs) was copied into the old
 * generation and only freed by the next full GC, after the old generation had grown to ~130 MB;
 * V8 then kept the freed pages pooled, so RSS stayed at that high-water mark. Writing `undefined`
 * into a reused cell leaves nothing behind. (A standalone loop of 300,000 runs, 10 live: 88 MB
 * promoted through a `Map` or a `Set`, 5.9 MB through reused cells, 5.7 MB with no container.)
 *
 * Lookups by job id (a stop request, lost runs, the shutdown) scan the cells: they are rare and
 * the cells are as many as the worker's concurrency.
 */
export class RunSlots {
  private readonly cells: Array<ActiveRun | undefined> = [];
  /** Indexes of empty cells (small integers: nothing for the collector to follow). */
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(run: ActiveRun): void {
    const slot = this.free.length ? this.free.pop()! : this.cells.length;
    run.slot = slot;
    this.cells[slot] = run;
    this.count++;
  }

  /** Takes `run` out (nothing when it already left). */
  delete(run: ActiveRun): void {
    const slot = run.slot;
    if (slot === undefined || this.cells[slot] !== run) return;
    this.cells[slot] = undefined;
    this.free.push(slot);
    this.count--;
  }

  /** The runs of `jobId` (one, unless a job came back to this worker while its cut-short run still settles). */
  ofJob(jobId: string): ActiveRun[] {
    return this.values().filter((run) => run.job.jobId === jobId);
  }

  values(): ActiveRun[] {
    const runs: ActiveRun[] = [];
    for (const run of this.cells) if (run) runs.push(run);
    return runs;
  }
}
