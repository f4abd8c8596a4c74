/**
 * The worker: claims due jobs from the database and runs them. This provider is the facade the
 * rest of the library uses (`wake`, `onStopRequested`, `id`, `activeCount`) and the lifecycle
 * that wires the parts, one responsibility each:
 *
 * - claim-loop.ts: when to claim and how much, completions batched with claims;
 * - run-executor.ts: a run from start to recorded outcome, retries, the four ways a run is cut short;
 * - lease-keeper.ts: lease renewal from a worker thread (a blocked event loop cannot lose a lease);
 * - reaper.ts (its own provider): re-queues or fails the runs of dead workers.
 *
 * Wake-ups come from a dispatch in this process, a NOTIFY (PostgreSQL) or `data_version` change
 * (SQLite) from another one, a retry becoming due, and the fallback poll.
 *
 * Shutdown, in order (pg-boss `#doStop`): stop claiming; let runs finish for `shutdownTimeoutMs`;
 * abort the rest; hand them back to the queue without using up a try; wait for every statement
 * in flight; stop renewing leases. The store is closed afterwards by its owner (job-store.closer.ts).
 */
import type { Workflows } from '../workflows/workflows.js';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JOB_STORE, JOB_TELEMETRY, NOTIFY_CHANNEL, RESOLVED_OPTIONS, STORAGE_DRIVER } from '../managed-jobs.constants.js';
import { HAND_BACK_FAILED, HANDED_BACK, LISTEN_FAILED, WORKER_WITHOUT_JOBS } from '../managed-jobs.messages.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { JobRegistry } from '../discovery/job-registry.js';
import { JobEventsPublisher } from '../events/job-events.publisher.js';
import type { JobStore, RunRef } from '../store/job-store.interface.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import { isLimited } from '../queue-control/queue-control.js';
import { ClaimLoop } from './claim-loop.js';
import { InFlight, persist } from './in-flight.js';
import { LeaseKeeper } from './lease-keeper.js';
import { RunExecutor } from './run-executor.js';
import { decodeWake } from '../store/wake-message.js';
import type { JobTelemetry } from '../telemetry/job-telemetry.js';
import { JobLogWriter } from '../operator/job-log.writer.js';
import { OperatorStore } from '../operator/operator.store.js';
import { WorkerRegistration } from '../operator/worker-registry.js';

interface Parts {
  loop: ClaimLoop;
  executor: RunExecutor;
  keeper: LeaseKeeper;
  poll: NodeJS.Timeout;
  registration: WorkerRegistration;
}

@Injectable()
export class JobWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ManagedJobs');
  private readonly inFlight = new InFlight();
  /** Present while the worker runs (enabled, with jobs to run) and until its shutdown ended. */
  private parts?: Parts;
  private stopping = false;
  /** When the poll timer last fired (the health check's "the worker loop ticks"); 0 before the start. */
  private lastTickAt = 0;
  /** Set by `limitRuns` before the worker starts. */
  private runBudget?: number;
  /** Batch members' run ends (lib/workflows), given by `JobRunnerService`. */
  workflows?: Workflows;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly registry: JobRegistry,
    private readonly events: JobEventsPublisher,
    @Inject(JOB_TELEMETRY) private readonly telemetry: JobTelemetry,
    private readonly logs: JobLogWriter,
    private readonly operatorStore: OperatorStore,
  ) {}

  /** Batch members end their runs through these (lib/workflows). */
  useWorkflows(workflows: Workflows): void {
    this.workflows = workflows;
  }

  get id(): string {
    return this.options.worker.id;
  }

  /** Number of runs currently holding a slot. */
  get activeCount(): number {
    return this.parts?.executor.size ?? 0;
  }

  /** For the health check: null when this process runs no worker (disabled, or no job types). */
  get loopHealth(): { running: boolean; lastTickAt: number } | null {
    if (!this.lastTickAt) return null;
    return { running: !!this.parts && !this.stopping, lastTickAt: this.lastTickAt };
  }

  /** Look for work now. `fresh` means new jobs may have arrived (not just a slot freeing up). */
  wake(fresh = false): void {
    this.parts?.loop.wake(fresh);
  }

  /** Claim at most `runs` more jobs in this process (the CLI's `work --once` / `--max-jobs`). */
  limitRuns(runs: number): void {
    this.runBudget = runs;
    this.parts?.loop.limitRuns(runs);
  }

  /** Called when a stop was requested, here or (through NOTIFY) in another process. */
  onStopRequested(jobId: string): void {
    this.parts?.executor.stop(jobId);
  }

  onApplicationBootstrap(): void {
    // Dispatching processes need warm connections as much as workers do.
    void this.store.warmUp().catch(() => undefined);
    if (!this.options.worker.enabled) return;
    const types = this.registry.all().map((j) => j.name);
    if (!types.length) {
      this.logger.warn(WORKER_WITHOUT_JOBS());
      return;
    }
    const { worker } = this.options;
    const keeper = new LeaseKeeper({
      store: this.store,
      logger: this.logger,
      workerId: worker.id,
      leaseMs: worker.leaseMs,
      intervalMs: worker.heartbeatIntervalMs,
      onLost: (runs) => this.inFlight.track(executor.lost(runs)),
    });
    const loop: ClaimLoop = new ClaimLoop({
      store: this.store,
      logger: this.logger,
      inFlight: this.inFlight,
      workerId: worker.id,
      queues: worker.queues,
      types: this.registry.all().filter((j) => !isLimited(j.control)).map((j) => j.name),
      limited: this.registry
        .all()
        .filter((j) => isLimited(j.control))
        .map((j) => ({ type: j.name, concurrency: j.control.concurrency?.limit ?? null, rate: j.control.rateLimit && { max: j.control.rateLimit.max, perSeconds: j.control.rateLimit.perSeconds } })),
      concurrency: worker.concurrency,
      leaseMs: worker.leaseMs,
      busySlots: () => executor.size,
      onClaimed: (jobs, stopped) => (stopped ? this.handBack(jobs) : executor.startAll(jobs)),
    });
    const executor: RunExecutor = new RunExecutor({
      options: this.options,
      store: this.store,
      storage: this.storage,
      registry: this.registry,
      events: this.events,
      logger: this.logger,
      inFlight: this.inFlight,
      keeper,
      telemetry: this.telemetry,
      complete: (completion) => loop.complete(completion),
      slotFreed: () => loop.slotFreed(),
      wake: () => loop.wake(true),
      logs: this.logs,
      workflows: this.workflows,
    });
    // The poll timer is the one timer left referenced: a running worker keeps its process alive,
    // as an HTTP server does. With every timer unref'd, a worker-only process (an application
    // context, no server) on SQLite exited right after boot, and one on PostgreSQL exited when an
    // outage closed its connections while idle. The shutdown clears it.
    const poll = setInterval(() => {
      this.lastTickAt = Date.now();
      loop.wake(true);
    }, worker.pollIntervalMs);
    this.lastTickAt = Date.now();
    // The registry row (workers(), stats()): one upsert per heartbeat interval, nothing per job.
    const registration = new WorkerRegistration(this.operatorStore, this.options, () => executor.size);
    this.parts = { loop, executor, keeper, poll, registration };
    keeper.start();
    registration.start();
    if (this.runBudget !== undefined) loop.limitRuns(this.runBudget);
    void this.store.listen((payload) => this.onNotify(payload)).catch((error) => {
      this.logger.warn(LISTEN_FAILED(NOTIFY_CHANNEL, (error as Error).message));
    });
    loop.start();
  }

  /** A wake-up (see `wake-message.ts`): jobs were queued, or a stop was requested. */
  private onNotify(payload: string): void {
    const message = decodeWake(payload);
    if (message.kind === 'stopRequested') return this.onStopRequested(message.jobId);
    if (message.origin && message.origin === this.id) return; // woken directly at dispatch
    if (message.queues.length && !message.queues.some((q) => this.options.worker.queues.includes(q))) return;
    this.wake(true);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.parts || this.stopping) return;
    this.stopping = true;
    const { loop, executor, keeper, poll, registration } = this.parts;
    loop.stop();
    clearInterval(poll);
    // Leases stay renewed until every run is handed back: with shutdownTimeoutMs > leaseMs, a
    // silent heartbeat let other workers' reapers take (and re-run) jobs still running here
    // (found by test/reliability: outcome `lost` instead of `released`).
    const unfinished = await executor.drain(this.options.worker.shutdownTimeoutMs);
    await this.handBack(unfinished);
    // Completions and claims still in flight (a claim that lands now is handed back by the loop).
    await this.inFlight.settled();
    await keeper.stop();
    await registration.stop();
    await this.logs.flush(); // the last ctx.log lines of the runs that just ended
    this.parts = undefined;
  }

  /** Runs this worker will not finish go back to the queue without using up a try. */
  private async handBack(runs: RunRef[] | ManagedJobEntity[]): Promise<void> {
    if (!runs.length) return;
    const refs = runs.map((r) => ({ jobId: r.jobId, fence: r.fence }));
    try {
      const released = await persist(() => this.store.release(refs, this.id), this.options.worker.leaseMs);
      this.logger.log(HANDED_BACK(released.length));
    } catch (error) {
      this.logger.error(HAND_BACK_FAILED((error as Error).message));
    } finally {
      for (const ref of refs) this.parts?.keeper.release(ref);
    }
  }
}
