/**
 * The run executor: starts a claimed job's handler, waits for it or for the run to be cut short,
 * records the outcome, and applies the retry policy.
 *
 * - A run holds a concurrency slot from its start until its handler settles or it is cut short;
 *   its lease is held (lease-keeper.ts) until its outcome is written, so it cannot be reaped
 *   while the completion waits for a statement.
 * - A run is cut short four ways, all through `cutShort` and all settled in `settle`: `stopped`
 *   (stop() already wrote the status), `lost` (the job is no longer ours: nothing to write),
 *   `timeout` (recorded as a failed try) and `shutdown` (handed back by the worker's drain).
 *   A cut-short run frees its slot at once; the handler's late writes are fenced.
 * - Completions go out batched with the claim loop's next statement; failures are written alone.
 * - Whether a failed run is tried again, and when, is `retry-policy.ts`; `ctx.release()` hands the
 *   job back instead of completing it.
 * - Jobs without middleware, release or these options cost nothing more: the middleware chain is
 *   only entered when the job has some, and everything else is decided after the handler settled.
 */
import type { Logger } from '@nestjs/common';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import {
  BACKOFF_FN_FAILED,
  FAILED_HOOK_THREW,
  JOB_INTERRUPTED,
  JOB_LOST,
  JOB_REASSIGNED,
  JOB_STOPPED,
  JOB_TIMED_OUT,
  OUTCOME_NOT_RECORDED,
  RELEASED_AFTER_RETRY_UNTIL,
  RESULT_NOT_SERIALISABLE,
  STOPPED_RESULT_NOT_KEPT,
} from '../managed-jobs.messages.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { JobStatus } from '../enums/job-status.enum.js';
import { InvalidJobValueError, JobInterruptedError } from '../errors/managed-jobs.errors.js';
import type { JobRegistry } from '../discovery/job-registry.js';
import type { JobEventsPublisher } from '../events/job-events.publisher.js';
import {
  ManagedJobCompletedEvent,
  ManagedJobEvents,
  ManagedJobFailedEvent,
  ManagedJobProgressEvent,
  ManagedJobRetryingEvent,
  ManagedJobStartedEvent,
} from '../events/managed-job.events.js';
import type { CompletedRun, Completion, JobStore, RunRef } from '../store/job-store.interface.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import type { JobTelemetry } from '../telemetry/job-telemetry.js';
import { hydratePayload } from '../services/payload-validator.js';
import { RunContext, type JobContextDeps } from './job-context.js';
import { storedJson } from './stored-json.js';
import { persist, withTimeout, type InFlight } from './in-flight.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { completedJob, errorText, toError, type ActiveRun, type Outcome } from './active-run.js';
import { runThrough } from './middleware-chain.js';
import { nextTry } from './retry-policy.js';
import { RunSlots } from './run-slots.js';
import type { Workflows } from '../workflows/workflows.js';

/** After the shutdown abort, how long handlers get to notice before their jobs are handed back. */
const ABORT_GRACE_MS = 1000;

type CutReason = JobInterruptedError['reason'];

export interface RunExecutorDeps {
  options: ResolvedOptions;
  store: JobStore;
  storage: StorageDriver;
  registry: JobRegistry;
  events: JobEventsPublisher;
  logger: Logger;
  inFlight: InFlight;
  keeper: LeaseKeeper;
  /** Spans and metrics; a handler is wrapped in its run span only when `enabled`. */
  telemetry: JobTelemetry;
  /** Records a completion with the claim loop's next statement. */
  complete: (completion: Completion) => Promise<CompletedRun | null>;
  /** A slot was freed. */
  slotFreed: () => void;
  /** A retry became due. */
  wake: () => void;
  /** Where `ctx.log` lines go (the operator's batched writer). */
  logs?: JobContextDeps['logs'];
  /** Batch members' run ends (lib/workflows); a job without a `batchId` never reaches it. */
  workflows?: Workflows;
}

export class RunExecutor {
  /** Runs holding a concurrency slot (not a `Map`: see run-slots.ts, it kept RSS growing). */
  private readonly running = new RunSlots();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private draining = false;

  /** What every run's context shares (made once: a busy worker starts thousands of runs a second). */
  private readonly contextDeps: JobContextDeps;

  constructor(private readonly deps: RunExecutorDeps) {
    const { store, storage, options, events } = deps;
    this.contextDeps = {
      store,
      storage,
      fileExpiryDays: options.fileExpiryDays,
      progressIntervalMs: options.progressIntervalMs,
      onProgress: (row) => events.publish(new ManagedJobProgressEvent(row)),
      logs: deps.logs,
      workflows: deps.workflows,
    };
  }

  get size(): number {
    return this.running.size;
  }

  /** Start claimed jobs; their leases are held before any handler runs. */
  startAll(jobs: ManagedJobEntity[]): void {
    this.deps.keeper.hold(jobs);
    for (const job of jobs) this.start(job);
  }

  private start(job: ManagedJobEntity): void {
    const registered = this.deps.registry.get(job.type)!;
    const run: ActiveRun = { job, registered, handler: undefined!, slot: undefined };
    this.running.add(run);
    let payload: unknown;
    try {
      payload = hydratePayload(registered.payload, job.payload);
    } catch (error) {
      run.handler = Promise.resolve({ ok: false, error: toError(error) });
    }
    if (!run.handler) {
      const { events } = this.deps;
      const ctx = (run.ctx = new RunContext(job, payload, this.contextDeps));
      if (events.wants(ManagedJobEvents.Started)) events.publish(new ManagedJobStartedEvent(job));
      // Module-wide and the job's own middleware around the handler; the run span (when telemetry
      // is on) around all of it.
      const handle = registered.middleware.length
        ? () => runThrough(registered.middleware, ctx, () => registered.instance.handle(ctx))
        : () => registered.instance.handle(ctx);
      const { telemetry } = this.deps;
      run.handler = Promise.resolve()
        .then(telemetry.enabled ? () => telemetry.run(job, handle) : handle)
        .then(
          (value) => ({ ok: true as const, value }),
          (error) => ({ ok: false as const, error: toError(error) }),
        );
      if (registered.timeoutSeconds && registered.timeoutSeconds > 0) {
        run.timeout = setTimeout(() => this.cutShort(run, 'timeout'), registered.timeoutSeconds * 1000);
      }
    }
    this.deps.inFlight.track(this.execute(run));
  }

  /** The one place a run is cut short: its `ctx.signal` aborts with the reason. */
  private cutShort(run: ActiveRun, reason: CutReason): void {
    const message =
      reason === 'stopped' ? JOB_STOPPED
      : reason === 'timeout' ? JOB_TIMED_OUT(run.registered.timeoutSeconds ?? 0)
      : reason === 'shutdown' ? JOB_INTERRUPTED
      : JOB_LOST(run.job.jobId);
    run.ctx?.interrupt(new JobInterruptedError(reason, message));
  }

  /** A stop was requested, here or in another process. */
  stop(jobId: string): void {
    for (const run of this.running.ofJob(jobId)) this.cutShort(run, 'stopped');
  }

  /** Runs the lease keeper found no longer ours: stopped elsewhere, or reaped. */
  async lost(runs: RunRef[]): Promise<void> {
    for (const ref of runs) {
      const run = this.running.ofJob(ref.jobId).find((r) => r.job.fence === ref.fence);
      if (!run?.ctx || run.ctx.interruption) continue;
      const now = await this.deps.store.find(ref.jobId).catch(() => null);
      this.cutShort(run, now?.status === JobStatus.Stopped ? 'stopped' : 'lost');
    }
  }

  private async execute(run: ActiveRun): Promise<void> {
    // The handler's outcome, or null when the run is cut short first (one promise per run, no race).
    const { ctx } = run;
    const outcome = await (ctx
      ? new Promise<Outcome | null>((resolve) => {
          ctx.onInterrupted(() => resolve(null));
          void run.handler.then(resolve);
        })
      : run.handler);
    clearTimeout(run.timeout);
    // A shutdown abort is settled by `drain`, which hands the run back.
    if (run.ctx?.interruption?.reason === 'shutdown') return;
    this.running.delete(run);
    try {
      await this.settle(run, outcome);
    } catch (error) {
      // The database kept refusing; the lease will run out and the reaper will re-queue the job.
      this.deps.logger.error(OUTCOME_NOT_RECORDED(run.job.jobId, (error as Error).message));
    } finally {
      this.deps.keeper.release(run.job);
      this.deps.slotFreed();
    }
  }

  /** What the end of a run writes, by how it ended. */
  private async settle(run: ActiveRun, outcome: Outcome | null): Promise<void> {
    const cut = run.ctx?.interruption;
    switch (cut?.reason) {
      case 'stopped': // stop() already wrote `stopped`; a value the handler still returns is kept
        return this.keepStoppedResult(run);
      case 'lost': // the job is someone else's now; nothing of ours to write
        this.deps.logger.warn(JOB_REASSIGNED(run.job.jobId));
        return;
      case 'timeout':
        return this.recordFailure(run, cut, 'timeout');
    }
    if (outcome?.ok) return run.ctx?.released ? this.recordRelease(run, run.ctx.released.delayMs) : this.recordCompletion(run, outcome.value);
    if (outcome) return this.recordFailure(run, outcome.error, 'failed');
  }

  /**
   * `ctx.release()`: back to the queue, due in `delayMs`, the try given back (a write fenced to
   * the run, ledger outcome `released`). After the job's `retryUntil` moment it fails instead.
   */
  private async recordRelease(run: ActiveRun, delayMs: number): Promise<void> {
    const until = run.job.retryUntil;
    if (until && Date.now() >= until.getTime()) return this.recordFailure(run, new Error(RELEASED_AFTER_RETRY_UNTIL(until)), 'failed', true);
    await run.ctx!.progress.settle();
    const ref = { jobId: run.job.jobId, fence: run.job.fence };
    const { store, options } = this.deps;
    const [row] = await persist(() => store.release([ref], options.worker.id, delayMs), options.worker.leaseMs);
    if (row) this.wakeAfter(delayMs);
  }

  /**
   * A stopped run's slot is freed at once, but a handler that then returns a value (a partial
   * result: "stopped after 500 rows") has it kept as the stopped job's `result`, by a write
   * fenced to this run (`keepStoppedResult`). Off the hot path: only stopped runs pay for it.
   */
  private keepStoppedResult(run: ActiveRun): void {
    const ref = { jobId: run.job.jobId, fence: run.job.fence };
    void run.handler.then((outcome) => {
      if (!outcome.ok || outcome.value === undefined) return;
      let json: string | null;
      try {
        json = storedJson('result', outcome.value);
      } catch {
        return; // not storable: nothing to keep (a stopped job has no failure to report)
      }
      this.deps.inFlight.track(
        this.deps.store.keepStoppedResult(ref, json!).catch((error: Error) => this.deps.logger.warn(STOPPED_RESULT_NOT_KEPT(ref.jobId, error.message))),
      );
    });
  }

  private async recordCompletion(run: ActiveRun, value: unknown): Promise<void> {
    let result: string | null;
    try {
      result = storedJson('result', value);
    } catch (error) {
      const reason = error instanceof InvalidJobValueError ? error : new Error(RESULT_NOT_SERIALISABLE((error as Error).message));
      return this.recordFailure(run, reason, 'failed');
    }
    const last = await run.ctx!.progress.settle();
    const completion: Completion = { jobId: run.job.jobId, fence: run.job.fence, result, progress: 100, message: last.message };
    // A batch member ends in a transaction of its own with its batch's bookkeeping (lib/workflows);
    // every other job is completed with the claim loop's next statement, as before.
    const { workflows, options } = this.deps;
    // A member's slot is free now (its handler returned): claim its successor while the batch's
    // transaction is in flight, as a plain job's slot is refilled by the flight its completion rides.
    if (run.job.batchId && workflows) this.deps.slotFreed();
    const done = await persist(
      () => (run.job.batchId && workflows ? workflows.completeMember(run.job, completion, options.worker.id) : this.deps.complete(completion)),
      options.worker.leaseMs,
    );
    if (done) this.deps.telemetry.completed(run.job);
    if (done && this.deps.events.wants(ManagedJobEvents.Completed)) {
      this.deps.events.publish(new ManagedJobCompletedEvent(completedJob(run, completion, done)));
    }
  }

  /** A failed try: retried after the job's backoff while the policy allows (`nextTry`), else failed for good. */
  private async recordFailure(run: ActiveRun, error: Error, outcome: 'failed' | 'timeout', final = false): Promise<void> {
    const { job, registered, ctx } = run;
    const { store, options, events, logger } = this.deps;
    const last = ctx ? await ctx.progress.settle() : { percent: job.progressPercentage, message: job.progressMessage };
    const retryInSeconds = final ? null : nextTry(job, registered, error, outcome, (why) => logger.warn(BACKOFF_FN_FAILED(job.jobId, why)));
    const reason = error.message || error.name || 'Error';
    const failure = {
      jobId: job.jobId,
      fence: job.fence,
      reason,
      error: errorText(error, reason),
      retryInSeconds,
      outcome,
      progress: last.percent,
      message: last.message,
    };
    const { workflows } = this.deps;
    const row = await persist(
      () => (job.batchId && workflows ? workflows.failMember(job, failure, options.worker.id) : store.fail(failure, options.worker.id)),
      options.worker.leaseMs,
    );
    if (!row) return;
    this.deps.telemetry.failed(job, row.status === JobStatus.Pending);
    if (row.status === JobStatus.Pending) {
      if (events.wants(ManagedJobEvents.Retrying)) events.publish(new ManagedJobRetryingEvent(row, error));
      return this.wakeAfter((retryInSeconds ?? 0) * 1000);
    }
    if (registered.instance.failed && ctx) {
      try {
        await registered.instance.failed(error, ctx);
      } catch (hookError) {
        logger.error(FAILED_HOOK_THREW(row.jobId, (hookError as Error).message));
      }
    }
    events.publish(new ManagedJobFailedEvent(row, error));
  }

  /** Wake when a retry we scheduled becomes due, rather than waiting for the next poll. */
  private wakeAfter(delayMs: number): void {
    if (this.draining) return; // nothing will claim it here; another worker or the next start will
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.deps.wake();
    }, delayMs + 5);
    timer.unref();
    this.retryTimers.add(timer);
  }

  /**
   * Shutdown: let runs finish for `shutdownTimeoutMs`, cut the rest short, give them a moment to
   * notice, and return the runs to hand back (they leave `running` here).
   */
  async drain(shutdownTimeoutMs: number): Promise<RunRef[]> {
    this.draining = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    const handlers = () => this.running.values().map((r) => r.handler);
    await withTimeout(Promise.all(handlers()), shutdownTimeoutMs);
    if (this.running.size) {
      for (const run of this.running.values()) this.cutShort(run, 'shutdown');
      await withTimeout(Promise.all(handlers()), ABORT_GRACE_MS);
    }
    // Whatever is still running, and whatever finished after the abort, goes back to the queue.
    const unfinished = this.running.values().filter((r) => r.ctx?.interruption?.reason === 'shutdown' || !r.ctx);
    for (const run of unfinished) {
      clearTimeout(run.timeout);
      this.running.delete(run);
    }
    return unfinished.map((r) => ({ jobId: r.job.jobId, fence: r.job.fence }));
  }
}
