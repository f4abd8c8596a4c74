/**
 * The worker: claims due jobs from the database and runs them.
 *
 * - Claims take up to the free concurrency in one statement per queue (queues in priority order)
 *   and run when woken: by a dispatch in this process, a Postgres NOTIFY from another one, a
 *   finished run while a backlog remains, or the fallback poll.
 * - One heartbeat query per tick renews the leases of every run of this worker and tells which
 *   runs no longer own their job (stopped elsewhere, or reaped): their `ctx.signal` aborts.
 * - Completions are group-committed: runs finishing while a completion write is in flight are
 *   written together in the next one, so a busy worker makes one round trip for many jobs.
 * - A stopped, timed-out or lost run frees its slot at once; the handler's late writes are fenced.
 * - Shutdown: stop claiming, let runs finish for `shutdownTimeoutMs`, abort the rest, and hand
 *   them back to the queue without using up a try.
 */
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOB_STORE, NOTIFY_CHANNEL, RESOLVED_OPTIONS, STORAGE_DRIVER } from '../managed-jobs.constants.js';
import { JOB_INTERRUPTED, JOB_STOPPED, JOB_TIMED_OUT, WORKER_LOST } from '../managed-jobs.messages.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { JobStatus } from '../enums/job-status.enum.js';
import { JobInterruptedError } from '../errors/managed-jobs.errors.js';
import { JobRegistry, type RegisteredJob } from '../discovery/job-registry.js';
import { JobEventsPublisher } from '../events/job-events.publisher.js';
import {
  ManagedJobCompletedEvent,
  ManagedJobFailedEvent,
  ManagedJobProgressEvent,
  ManagedJobStartedEvent,
} from '../events/managed-job.events.js';
import type { Completion, JobStore, RunRef } from '../store/job-store.interface.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import { hydratePayload } from '../services/payload-validator.js';
import { RunContext } from './job-context.js';
import { GroupCommit } from './group-commit.js';

/** A job lost with its worker this many times is failed instead of re-queued (poison guard). */
const MAX_LOST_RUNS = 3;
/** After the shutdown abort, how long handlers get to notice before their jobs are handed back. */
const ABORT_GRACE_MS = 1000;

interface ActiveRun {
  job: ManagedJobEntity;
  registered?: RegisteredJob;
  ctx?: RunContext;
  /** Settles when the handler settles (never rejects). */
  handler: Promise<{ ok: true; value: unknown } | { ok: false; error: Error }>;
  timeout?: NodeJS.Timeout;
}

@Injectable()
export class JobWorker implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('ManagedJobs');
  /** Runs holding a concurrency slot. */
  private readonly running = new Map<string, ActiveRun>();
  /** Runs whose outcome is being written; their leases are still renewed. */
  private readonly finishing = new Map<string, RunRef>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Kept apart from `timers`: leases must be renewed until the shutdown has handed every run back. */
  private heartbeatTimer?: NodeJS.Timeout;
  /** Completions of many runs share one statement (see GroupCommit). */
  private readonly completions = new GroupCommit<Completion, ManagedJobEntity>(
    (batch) => this.store.complete(batch),
    (value) => value.jobId,
  );
  private started = false;
  private stopping = false;
  private claiming = false;
  private wakeAgain = false;
  /** Whether the last claim may have left due jobs behind (a full batch, or a wake while full). */
  private backlog = true;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly busy = new Set<string>();
  private types: string[] = [];

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly registry: JobRegistry,
    private readonly events: JobEventsPublisher,
  ) {}

  get id(): string {
    return this.options.worker.id;
  }

  /** Number of runs currently holding a slot. */
  get activeCount(): number {
    return this.running.size;
  }

  onApplicationBootstrap(): void {
    if (!this.options.worker.enabled) return;
    // Claim only jobs this process can run: a process without a job's provider leaves it to others.
    this.types = this.registry.all().map((j) => j.name);
    if (!this.types.length) {
      this.logger.warn('The worker is enabled but no @ManagedJob() provider was found; it will not claim jobs.');
      return;
    }
    this.started = true;
    const { pollIntervalMs, heartbeatIntervalMs, reaperIntervalMs } = this.options.worker;
    // The poll timer is the one timer left referenced: a running worker keeps its process alive,
    // as an HTTP server does. With every timer unref'd, a worker-only process (an application
    // context, no server) on SQLite exited right after boot, and one on PostgreSQL exited when an
    // outage closed its connections while idle. Shutdown clears it like the others.
    this.every(pollIntervalMs, () => this.wake(true), true);
    this.heartbeatTimer = this.every(heartbeatIntervalMs, () => this.once('heartbeat', () => this.heartbeat()));
    this.every(reaperIntervalMs, () => this.once('reap', () => this.reap()));
    void this.store.listen((payload) => this.onNotify(payload)).catch((error) => {
      this.logger.warn(`Could not LISTEN on ${NOTIFY_CHANNEL}: ${(error as Error).message}; polling only.`);
    });
    this.wake(true);
  }

  private every(ms: number, fn: () => void, keepAlive = false): NodeJS.Timeout {
    const timer = setInterval(fn, ms);
    if (!keepAlive) timer.unref();
    this.timers.push(timer);
    return timer;
  }

  /** Run a periodic task unless its previous run is still going (a slow database must not pile them up). */
  private once(name: string, task: () => Promise<void>): void {
    if (this.busy.has(name)) return;
    this.busy.add(name);
    this.track(task().finally(() => this.busy.delete(name)));
  }

  private track<T>(promise: Promise<T>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  /**
   * `d:<queues>|<origin>` (jobs were queued; worker ids contain ':', hence '|') or `s:<jobId>`
   * (a stop was requested).
   */
  private onNotify(payload: string): void {
    if (payload.startsWith('s:')) return this.onStopRequested(payload.slice(2));
    const rest = payload.slice(2);
    const bar = rest.indexOf('|');
    const queues = bar < 0 ? rest : rest.slice(0, bar);
    const origin = bar < 0 ? '' : rest.slice(bar + 1);
    if (origin && origin === this.id) return; // woken directly at dispatch
    if (queues && !queues.split(',').some((q) => this.options.worker.queues.includes(q))) return;
    this.wake(true);
  }

  /** Look for work now. `fresh` means new jobs may have arrived (not just a slot freeing up). */
  wake(fresh = false): void {
    if (fresh) this.backlog = true;
    if (!this.started || this.stopping) return;
    if (this.claiming) {
      this.wakeAgain = true;
      return;
    }
    this.track(this.claimLoop());
  }

  private async claimLoop(): Promise<void> {
    this.claiming = true;
    try {
      do {
        // Let timers and I/O run between claims. On SQLite every query is synchronous, so without
        // this a backlog of quick jobs drains as one unbroken promise chain and heartbeats,
        // sockets and HTTP wait for the whole drain (test/core/event-loop.spec.ts saw a 3.4 s stall).
        await yieldToEventLoop();
        this.wakeAgain = false;
        let full = false;
        for (const queue of this.options.worker.queues) {
          const free = this.options.worker.concurrency - this.running.size;
          if (free <= 0 || this.stopping) {
            full = true;
            break;
          }
          const jobs = await this.store.claim(queue, this.types, free, this.id, this.options.worker.leaseMs);
          if (this.stopping) {
            // The shutdown began while this claim was in flight: run nothing new, hand them back.
            await this.handBack(jobs.map((j) => ({ jobId: j.jobId, fence: j.fence })));
            break;
          }
          for (const job of jobs) this.start(job);
          if (jobs.length === free) {
            full = true;
            break;
          }
        }
        this.backlog = full || this.wakeAgain;
      } while (this.wakeAgain && this.running.size < this.options.worker.concurrency && !this.stopping);
    } catch (error) {
      this.logger.warn(`Claiming jobs failed: ${(error as Error).message}`);
    } finally {
      this.claiming = false;
    }
  }

  private start(job: ManagedJobEntity): void {
    const run = { job } as ActiveRun;
    this.running.set(job.jobId, run);
    const registered = this.registry.get(job.type)!;
    run.registered = registered;
    let payload: unknown;
    try {
      payload = hydratePayload(registered.payload, job.payload);
    } catch (error) {
      run.handler = Promise.resolve({ ok: false, error: toError(error) });
    }
    if (!run.handler) {
      run.ctx = new RunContext(job, payload, {
        store: this.store,
        storage: this.storage,
        fileExpiryDays: this.options.fileExpiryDays,
        progressIntervalMs: this.options.progressIntervalMs,
        onProgress: (row) => this.events.publish(new ManagedJobProgressEvent(row)),
      });
      this.events.publish(new ManagedJobStartedEvent(job));
      run.handler = Promise.resolve()
        .then(() => registered.instance.handle(run.ctx!))
        .then(
          (value) => ({ ok: true as const, value }),
          (error) => ({ ok: false as const, error: toError(error) }),
        );
      if (registered.timeoutSeconds && registered.timeoutSeconds > 0) {
        const seconds = registered.timeoutSeconds;
        run.timeout = setTimeout(() => run.ctx!.interrupt(new JobInterruptedError('timeout', JOB_TIMED_OUT(seconds))), seconds * 1000);
      }
    }
    this.track(this.execute(run));
  }

  private async execute(run: ActiveRun): Promise<void> {
    const ctx = run.ctx;
    const aborted = ctx
      ? new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))
      : new Promise<void>(() => undefined);
    const outcome = await Promise.race([run.handler, aborted.then(() => null)]);
    clearTimeout(run.timeout);
    const ref = { jobId: run.job.jobId, fence: run.job.fence };
    const interruption = ctx?.interruption;
    // A shutdown abort is handled by beforeApplicationShutdown, which hands the run back.
    if (interruption?.reason === 'shutdown') return;
    this.running.delete(run.job.jobId);
    this.finishing.set(run.job.jobId, ref);
    try {
      if (interruption?.reason === 'stopped' || interruption?.reason === 'lost') {
        // stop() already wrote `stopped`; a lost run has nothing left to say.
        if (interruption.reason === 'lost') this.logger.warn(`Job ${run.job.jobId} was reassigned or reaped while this worker ran it.`);
      } else if (interruption?.reason === 'timeout') {
        await this.recordFailure(run, interruption, 'timeout');
      } else if (outcome?.ok) {
        await this.recordCompletion(run, outcome.value);
      } else if (outcome) {
        await this.recordFailure(run, outcome.error, 'failed');
      }
    } catch (error) {
      // The database kept refusing; the lease will run out and the reaper will re-queue the job.
      this.logger.error(`Could not record the outcome of job ${run.job.jobId}: ${(error as Error).message}`);
    } finally {
      this.finishing.delete(run.job.jobId);
      if (this.backlog) this.wake();
    }
  }

  private async recordCompletion(run: ActiveRun, value: unknown): Promise<void> {
    let result: string | null;
    try {
      result = value === undefined ? null : JSON.stringify(value);
    } catch (error) {
      return this.recordFailure(run, new Error(`The job's result is not JSON-serialisable: ${(error as Error).message}`), 'failed');
    }
    const last = await run.ctx!.progress.settle();
    const job = await this.persist(() =>
      this.completions.add({ jobId: run.job.jobId, fence: run.job.fence, result, progress: 100, message: last.message }),
    );
    if (job) this.events.publish(new ManagedJobCompletedEvent(job));
  }

  private async recordFailure(run: ActiveRun, error: Error, outcome: 'failed' | 'timeout'): Promise<void> {
    const registered = run.registered;
    const last = run.ctx ? await run.ctx.progress.settle() : { percent: run.job.progressPercentage, message: run.job.progressMessage };
    const retry = run.job.attempts < run.job.maxAttempts;
    const backoff = registered?.backoff ?? [0];
    const retryInSeconds = retry ? backoff[Math.min(run.job.attempts - 1, backoff.length - 1)] : null;
    const job = await this.persist(() =>
      this.store.fail({
        jobId: run.job.jobId,
        fence: run.job.fence,
        reason: error.message || error.name || 'Error',
        retryInSeconds,
        outcome,
        progress: last.percent,
        message: last.message,
      }),
    );
    if (!job) return;
    if (job.status === JobStatus.Pending) {
      this.scheduleWake((retryInSeconds ?? 0) * 1000);
      return;
    }
    if (registered?.instance.failed && run.ctx) {
      try {
        await registered.instance.failed(error, run.ctx);
      } catch (hookError) {
        this.logger.error(`failed() of job ${job.jobId} threw: ${(hookError as Error).message}`);
      }
    }
    this.events.publish(new ManagedJobFailedEvent(job, error));
  }

  /** Wake when a retry we scheduled becomes due, rather than waiting for the next poll. */
  private scheduleWake(delayMs: number): void {
    const timer = setTimeout(() => this.wake(true), delayMs + 5);
    timer.unref();
  }

  /** Retry a write through a lost connection for up to a lease; after that the reaper takes over. */
  private async persist<T>(write: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.worker.leaseMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
    }
  }

  /** Called when a stop was requested, here or (through NOTIFY) in another process. */
  onStopRequested(jobId: string): void {
    this.running.get(jobId)?.ctx?.interrupt(new JobInterruptedError('stopped', JOB_STOPPED));
  }

  private async heartbeat(): Promise<void> {
    const runs: RunRef[] = [...this.running.values()].map((r) => ({ jobId: r.job.jobId, fence: r.job.fence }));
    runs.push(...this.finishing.values());
    if (!runs.length) return;
    try {
      const owned = new Set((await this.store.renewLeases(runs, this.id, this.options.worker.leaseMs)).map((r) => `${r.jobId}:${r.fence}`));
      for (const run of runs) {
        if (owned.has(`${run.jobId}:${run.fence}`)) continue;
        const active = this.running.get(run.jobId);
        if (!active?.ctx || active.job.fence !== run.fence) continue;
        const now = await this.store.find(run.jobId);
        active.ctx.interrupt(
          now?.status === JobStatus.Stopped
            ? new JobInterruptedError('stopped', JOB_STOPPED)
            : new JobInterruptedError('lost', `Job ${run.jobId} is no longer owned by this worker.`),
        );
      }
    } catch (error) {
      this.logger.warn(`Renewing leases failed: ${(error as Error).message}`);
    }
  }

  private async reap(): Promise<void> {
    try {
      const { requeued, failed } = await this.store.reap(MAX_LOST_RUNS, WORKER_LOST('{worker}'));
      if (requeued.length) {
        this.logger.warn(`Re-queued ${requeued.length} job(s) of a lost worker.`);
        this.wake(true);
      }
      for (const job of failed) this.events.publish(new ManagedJobFailedEvent(job));
    } catch (error) {
      this.logger.warn(`Reaping expired leases failed: ${(error as Error).message}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    // Stop polling and reaping, but keep renewing leases while runs finish: with
    // shutdownTimeoutMs > leaseMs, a silent heartbeat let other workers' reapers take (and re-run)
    // jobs still running here (found by test/reliability: outcome `lost` instead of `released`).
    for (const timer of this.timers) if (timer !== this.heartbeatTimer) clearInterval(timer);
    const handlers = () => [...this.running.values()].map((r) => r.handler);
    await withTimeout(Promise.all(handlers()), this.options.worker.shutdownTimeoutMs);
    if (this.running.size) {
      for (const run of this.running.values()) run.ctx?.interrupt(new JobInterruptedError('shutdown', JOB_INTERRUPTED));
      await withTimeout(Promise.all(handlers()), ABORT_GRACE_MS);
    }
    // Whatever is still running, and whatever finished after the abort, goes back to the queue.
    const unfinished = [...this.running.values()].filter((r) => r.ctx?.interruption?.reason === 'shutdown' || !r.ctx);
    await this.handBack(unfinished.map((r) => ({ jobId: r.job.jobId, fence: r.job.fence })));
    for (const run of unfinished) {
      clearTimeout(run.timeout);
      this.running.delete(run.job.jobId);
    }
    await Promise.allSettled([...this.inFlight]);
    clearInterval(this.heartbeatTimer);
  }

  /** Shutdown: runs this worker will not finish go back to the queue without using up a try. */
  private async handBack(runs: RunRef[]): Promise<void> {
    if (!runs.length) return;
    try {
      const released = await this.persist(() => this.store.release(runs));
      this.logger.log(`Handed ${released.length} unfinished job(s) back to the queue.`);
    } catch (error) {
      this.logger.error(`Could not hand jobs back (${(error as Error).message}); they return when their lease runs out.`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.store.close().catch(() => undefined);
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
