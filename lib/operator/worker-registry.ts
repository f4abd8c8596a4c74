/**
 * The live worker registry (`managed_job_workers`): a worker process writes its row when it
 * starts, refreshes `last_seen_at` and `running` with one upsert per heartbeat interval (on the
 * event loop, beside the lease keeper's tick: one statement per process per interval, nothing
 * per job), and deletes it at a clean shutdown. A killed process simply stops beating: its row
 * drops out of `workers()` once older than `registryStaleMs` (the lease length, at least five
 * beats) and is deleted by the next worker that starts or by any beat now and then.
 */
import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { REGISTRY_FAILED } from '../managed-jobs.messages.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { OperatorStore } from './operator.store.js';

/** Beats between two sweeps of dead workers' rows. */
const SWEEP_EVERY = 30;

/** How long a worker may go unseen before it counts as dead. */
export function registryStaleMs(options: ResolvedOptions): number {
  return Math.max(options.worker.leaseMs, 5 * options.worker.heartbeatIntervalMs);
}

export class WorkerRegistration {
  private readonly logger = new Logger('ManagedJobs');
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private beats = 0;
  private failing = false;

  constructor(
    private readonly store: OperatorStore,
    private readonly options: ResolvedOptions,
    private readonly running: () => number,
  ) {}

  start(): void {
    const beat = () => {
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
    };
    beat();
    this.timer = setInterval(beat, this.options.worker.heartbeatIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    await this.store.write(this.store.sql.deleteWorker(this.options.worker.id)).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const { worker } = this.options;
    try {
      await this.store.write(
        this.store.sql.upsertWorker({
          workerId: worker.id,
          hostname: hostname(),
          pid: process.pid,
          queues: worker.queues,
          concurrency: worker.concurrency,
          running: this.running(),
        }),
      );
      if (this.beats++ % SWEEP_EVERY === 0) await this.store.write(this.store.sql.deleteStaleWorkers(registryStaleMs(this.options)));
      this.failing = false;
    } catch (error) {
      // Said once per outage: the registry is for operators, the jobs go on.
      if (!this.failing) this.logger.warn(REGISTRY_FAILED((error as Error).message));
      this.failing = true;
    }
  }
}
