/**
 * The claim loop: keeps the worker's slots full with as few statements as possible.
 *
 * Design note
 * - A *flight* is one statement in flight: finished runs to record, a claim for free slots, or
 *   both at once (`completeAndClaim`: a busy worker makes one round trip per batch). Finished runs
 *   wait in `completions` and ride on the next flight (group commit).
 * - PostgreSQL allows three flights: two busy ones that share the slots, so handlers run while the
 *   database works on the other batch, and a third that lets a fresh wake's claim go out beside
 *   them. SQLite allows one: its statements are synchronous, a second would only wait.
 * - Whether to claim is the `mode`, one of the named states below, changed only by a wake, a
 *   launch and a claim's answer. A claim that comes back short proves the queue empty only if no
 *   wake came after it left (its snapshot is older than the wake): `wakes` counts them.
 * - The loop pumps on the next turn of the event loop, not inline: finished runs of one batch are
 *   collected into one statement, and timers and I/O get their turn between statements (on SQLite
 *   every query is synchronous; inline, a backlog of quick jobs drained as one unbroken promise
 *   chain and heartbeats, sockets and HTTP waited for it: test/core/event-loop.spec.ts).
 * - Concurrency- and rate-limited types (`limited`) are never in the plain claim's `types`: slots
 *   the plain claim leaves free go to `store.claimLimited`, one type at a time. A limited type
 *   whose claim found nothing rests until a wake or a freed slot; one waiting for a rate window
 *   rests until a timer set to the moment the claim returned (no polling in between). Where the
 *   store offers it (SQLite), finished runs ride on the first limited claim's transaction, as
 *   they ride on the plain claim's statement: one commit a batch, not two.
 */
import type { Logger } from '@nestjs/common';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ClaimRequest, CompletedRun, Completion, JobStore, LimitedClaim, LimitedClaimRequest } from '../store/job-store.interface.js';
import type { InFlight } from './in-flight.js';

/**
 * - `stopped`: not started, or shutting down. Claims nothing; completions still go out.
 * - `drained`: the last claim came back short and nothing woke us since. Claims nothing.
 * - `woken`: new jobs may be due that no claim in flight has seen. Claims now, beside a flight.
 * - `probing`: a claim that has seen every wake is in flight. Waits for its answer.
 * - `backlogged`: the last claim came back full. Claims whenever slots free up, beside a flight.
 */
export type ClaimMode = 'stopped' | 'drained' | 'woken' | 'probing' | 'backlogged';

/** At most this many completions in one statement. */
const MAX_COMPLETIONS = 1000;

interface QueuedCompletion {
  completion: Completion;
  resolve: (done: CompletedRun | null) => void;
  reject: (error: unknown) => void;
}

export interface ClaimLoopDeps {
  store: JobStore;
  logger: Logger;
  inFlight: InFlight;
  workerId: string;
  queues: string[];
  /** Job types this process can run with the plain claim: a process without a job's provider leaves it to others. */
  types: string[];
  /** Job types this process can run under a concurrency or rate limit (claimed by `store.claimLimited`). */
  limited?: LimitedType[];
  concurrency: number;
  leaseMs: number;
  /** Slots taken by runs now. */
  busySlots: () => number;
  /** Claimed jobs, to run (or, when the loop stopped meanwhile, to hand back); awaited by the shutdown. */
  onClaimed: (jobs: ManagedJobEntity[], stopped: boolean) => void | Promise<void>;
}

/** A job type under a concurrency limit and/or a rate limit. */
export interface LimitedType {
  type: string;
  concurrency: number | null;
  rate: { max: number; perSeconds: number } | null;
}

/** Margin added to a rate window's opening (the database clock and ours may differ by a little). */
const RATE_TIMER_MARGIN_MS = 5;

export class ClaimLoop {
  private mode: ClaimMode = 'stopped';
  private readonly completions: QueuedCompletion[] = [];
  private readonly maxFlights: number;
  /** Slots each claim asks for at most: two busy flights share them. */
  private readonly share: number;
  private flights = 0;
  /** Slots promised to the claims in flight. */
  private reserved = 0;
  private wakes = 0;
  private pumpScheduled = false;
  /** Runs this loop may still claim: Infinity, except for the CLI's `work --once` / `--max-jobs`. */
  private budget = Infinity;
  private readonly limited: Array<LimitedType & { queue: string; resting: boolean }>;
  private rateTimer: NodeJS.Timeout | null = null;
  private rateTimerAt = Infinity;
  /** Limited claims in flight: one that finds nothing while another runs may only have found its keys locked by it. */
  private limitedFlights = 0;

  constructor(private readonly deps: ClaimLoopDeps) {
    this.limited = deps.queues.flatMap((queue) => (deps.limited ?? []).map((l) => ({ ...l, queue, resting: false })));
    // Synchronous statements (SQLite): a second one in flight would only wait for the first.
    this.maxFlights = deps.store.capabilities.overlappingStatements ? 3 : 1;
    this.share = Math.ceil(deps.concurrency / Math.min(2, this.maxFlights));
  }

  start(): void {
    this.mode = 'woken';
    this.pump();
  }

  /** Claim at most `runs` more jobs, ever (the CLI's `work --max-jobs`). */
  limitRuns(runs: number): void {
    this.budget = runs;
  }

  /** Stop claiming (shutdown). Completions keep going out until the worker drained. */
  stop(): void {
    this.mode = 'stopped';
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimer = null;
  }

  /** Look for work now. `fresh`: new jobs may have arrived (not just a slot freeing up). */
  wake(fresh: boolean): void {
    if (this.mode === 'stopped') return;
    if (fresh) {
      this.wakes++;
      for (const l of this.limited) l.resting = false;
      if (this.mode === 'drained' || this.mode === 'probing') this.mode = 'woken';
    }
    this.pump();
  }

  /** A slot was freed: refill it on the next turn if jobs may be waiting. */
  slotFreed(): void {
    if (this.limited.length && this.mode !== 'stopped') {
      // A limited run may have ended: its key has room again, here or in no other process.
      for (const l of this.limited) l.resting = false;
      if (this.mode === 'drained') this.mode = 'woken';
    }
    if (this.mode !== 'drained' && this.mode !== 'stopped') this.schedulePump();
  }

  /** Record a finished run with the next statement; resolves null when the run was no longer ours to complete. */
  complete(completion: Completion): Promise<CompletedRun | null> {
    return new Promise((resolve, reject) => {
      this.completions.push({ completion, resolve, reject });
      this.schedulePump();
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Send statements while there is something to send and a flight free. */
  private pump(): void {
    while (this.flights < this.maxFlights) {
      const mayClaim = this.mode === 'woken' || this.mode === 'backlogged';
      const limit = mayClaim ? Math.min(this.share, this.deps.concurrency - this.deps.busySlots() - this.reserved, this.budget) : 0;
      if (!this.completions.length && limit <= 0) return;
      this.launch(this.completions.splice(0, MAX_COMPLETIONS), Math.max(0, limit));
    }
  }

  private launch(batch: QueuedCompletion[], limit: number): void {
    this.flights++;
    this.reserved += limit;
    this.budget -= limit;
    const seen = this.wakes;
    if (limit && this.mode === 'woken') this.mode = 'probing';
    this.deps.inFlight.track(
      this.fly(batch, limit).then(async (flight) => {
        this.flights--;
        this.reserved -= limit;
        this.budget += limit - (flight?.count ?? 0);
        if (limit) this.answered(flight && flight.count, limit, seen);
        this.schedulePump();
        if (flight?.jobs.length) await this.deps.onClaimed(flight.jobs, this.mode === 'stopped');
      }),
    );
  }

  /** A claim's answer (how many jobs it claimed, null when it failed) moves the mode: see `ClaimMode`. */
  private answered(claimed: number | null, limit: number, seen: number): void {
    if (this.mode === 'stopped') return;
    // A failed claim waits for the next wake (the poll at the latest) instead of spinning.
    if (claimed === null) this.mode = 'drained';
    else if (claimed >= limit) this.mode = 'backlogged';
    else if (this.wakes === seen) this.mode = 'drained';
    // Short, but woken since it left: a claim launched after the wake decides, or one still may.
    else if (this.mode === 'backlogged') this.mode = 'woken';
  }

  /**
   * Claim up to `n` jobs of the limited types that are not resting; a claim error propagates only
   * when nothing was claimed before it. `batch`: finished runs to record in the first type's claim
   * transaction (`store.completeAndClaimLimited`), settled here.
   */
  private async claimLimited(n: number, batch?: QueuedCompletion[]): Promise<ManagedJobEntity[]> {
    const { store, workerId, leaseMs } = this.deps;
    let claimed: ManagedJobEntity[] = [];
    for (const l of this.limited) {
      if (claimed.length >= n || this.mode === 'stopped') break;
      if (l.resting) continue;
      const request: LimitedClaimRequest = {
        queue: l.queue,
        types: [l.type],
        type: l.type,
        limit: n - claimed.length,
        workerId,
        leaseMs,
        concurrency: l.concurrency,
        rate: l.rate,
      };
      const alone = this.limitedFlights === 0;
      this.limitedFlights++;
      let answer: Awaited<ReturnType<JobStore['claimLimited']>>;
      const runs = batch;
      batch = undefined;
      try {
        answer = await (runs ? this.completeAndClaimLimited(runs, request) : store.claimLimited(request)).finally(() => this.limitedFlights--);
      } catch (error) {
        if (!claimed.length) throw error;
        // The jobs of the types claimed before the failure run; the rest waits for the next claim.
        this.deps.logger.warn(`Claiming jobs failed: ${(error as Error).message}`);
        break;
      }
      const { jobs, retryAt } = answer;
      if (!jobs.length && alone && this.limitedFlights === 0) l.resting = true;
      if (retryAt) this.wakeAt(retryAt.getTime());
      claimed = claimed.concat(jobs);
    }
    if (batch) await this.completeBatch(batch); // no type took them (stopped meanwhile)
    return claimed;
  }

  private async completeAndClaimLimited(batch: QueuedCompletion[], request: LimitedClaimRequest): Promise<LimitedClaim> {
    let answer: { completed: CompletedRun[]; claimed: LimitedClaim };
    try {
      answer = await this.deps.store.completeAndClaimLimited!(batch.map((b) => b.completion), request);
    } catch (error) {
      for (const b of batch) b.reject(error); // their runs retry them (persist)
      throw error;
    }
    this.settle(batch, answer.completed);
    return answer.claimed;
  }

  private async completeBatch(batch: QueuedCompletion[]): Promise<void> {
    let completed: CompletedRun[];
    try {
      completed = await this.deps.store.complete(batch.map((b) => b.completion), this.deps.workerId);
    } catch (error) {
      for (const b of batch) b.reject(error);
      throw error;
    }
    this.settle(batch, completed);
  }

  private settle(batch: QueuedCompletion[], completed: CompletedRun[]): void {
    const byId = new Map(completed.map((c) => [c.jobId, c]));
    for (const b of batch) b.resolve(byId.get(b.completion.jobId) ?? null);
  }

  /** Wake (fresh) when a rate window opens: one timer, for the earliest moment asked. */
  private wakeAt(at: number): void {
    if (this.mode === 'stopped' || at >= this.rateTimerAt) return;
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimerAt = at;
    this.rateTimer = setTimeout(() => {
      this.rateTimer = null;
      this.rateTimerAt = Infinity;
      this.wake(true);
    }, Math.max(0, at - Date.now()) + RATE_TIMER_MARGIN_MS);
    this.rateTimer.unref();
  }

  /**
   * One statement (plus one per further queue when the first leaves slots free, and the limited
   * types' claims). Resolves with the claimed jobs not yet handed over and how many were claimed in
   * all, or null if the claim failed.
   */
  private async fly(batch: QueuedCompletion[], limit: number): Promise<{ jobs: ManagedJobEntity[]; count: number } | null> {
    const { store, queues, types, workerId, leaseMs } = this.deps;
    const [first, ...others] = queues;
    const claimOf = (queue: string, n: number): ClaimRequest => ({ queue, types, limit: n, workerId, leaseMs });
    let claimed: ManagedJobEntity[] = [];
    // With only limited types here, the plain claim has nothing to look for.
    const plain = types.length ? limit : 0;
    try {
      if (batch.length && !plain && limit && this.deps.store.completeAndClaimLimited && this.mode !== 'stopped' && this.limited.some((l) => !l.resting)) {
        // Only limited types to claim, on a store whose commit is the cost (SQLite): one transaction for both.
        const jobs = await this.claimLimited(limit, batch);
        return { jobs, count: jobs.length };
      }
      if (batch.length) {
        const completions = batch.map((b) => b.completion);
        let completed: CompletedRun[];
        try {
          if (plain) ({ completed, claimed } = await store.completeAndClaim(completions, claimOf(first, plain)));
          else completed = await store.complete(completions, workerId);
        } catch (error) {
          for (const b of batch) b.reject(error); // their runs retry them (persist)
          throw error;
        }
        const byId = new Map(completed.map((c) => [c.jobId, c]));
        for (const b of batch) b.resolve(byId.get(b.completion.jobId) ?? null);
      } else if (plain) {
        claimed = await store.claim(claimOf(first, plain));
      }
      for (const queue of others) {
        if (!plain || claimed.length >= plain || this.mode === 'stopped') break;
        claimed = claimed.concat(await store.claim(claimOf(queue, plain - claimed.length)));
      }
      if (this.limited.length && claimed.length < limit && this.mode !== 'stopped' && this.limited.some((l) => !l.resting)) {
        // The plain jobs start now: the limited claims take a transaction per type.
        const plainCount = claimed.length;
        if (plainCount) this.handOver(claimed);
        claimed = [];
        const more = await this.claimLimited(limit - plainCount).catch((error) => {
          if (!plainCount) throw error;
          this.deps.logger.warn(`Claiming jobs failed: ${(error as Error).message}`);
          return [];
        });
        return { jobs: more, count: plainCount + more.length };
      }
      return { jobs: claimed, count: claimed.length };
    } catch (error) {
      if (!limit) return { jobs: [], count: 0 }; // the completions were rejected above and are retried by their runs
      this.deps.logger.warn(`Claiming jobs failed: ${(error as Error).message}`);
      // Jobs claimed from an earlier queue still run; their slots were reserved.
      return claimed.length ? { jobs: claimed, count: claimed.length } : null;
    }
  }

  /** Claimed jobs that run before their flight ends (awaited by the shutdown like the others). */
  private handOver(jobs: ManagedJobEntity[]): void {
    this.deps.inFlight.track(Promise.resolve(this.deps.onClaimed(jobs, this.mode === 'stopped')));
  }
}
