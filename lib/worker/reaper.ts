import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JOB_STORE, JOB_TELEMETRY, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import { REAP_FAILED, REQUEUED_LOST, WORKER_LOST } from '../managed-jobs.messages.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { JobRegistry } from '../discovery/job-registry.js';
import { JobEventsPublisher } from '../events/job-events.publisher.js';
import { ManagedJobFailedEvent } from '../events/managed-job.events.js';
import type { JobStore } from '../store/job-store.interface.js';
import type { JobTelemetry } from '../telemetry/job-telemetry.js';
import { JobWorker } from './job-worker.js';

/** A job lost with its worker this many times is failed instead of re-queued (poison guard). */
export const MAX_LOST_RUNS = 3;

/**
 * Every `reaperIntervalMs`, returns the runs whose lease ran out (their worker died or froze):
 * idempotent jobs go back to the queue, the others fail. Runs in every process whose worker runs,
 * so a dead process's jobs come back while any other one lives. A slow database never piles the
 * rounds up: a round starts only when the previous one ended.
 */
@Injectable()
export class JobReaper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ManagedJobs');
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    private readonly registry: JobRegistry,
    private readonly events: JobEventsPublisher,
    private readonly worker: JobWorker,
    @Inject(JOB_TELEMETRY) private readonly telemetry: JobTelemetry,
  ) {}

  onApplicationBootstrap(): void {
    // As the worker: only a process that runs jobs reaps (a web-only process leaves it to them).
    if (!this.options.worker.enabled || !this.registry.all().length) return;
    this.timer = setInterval(() => {
      this.round ??= this.reap().finally(() => (this.round = undefined));
    }, this.options.worker.reaperIntervalMs);
    this.timer.unref();
  }

  private async reap(): Promise<void> {
    try {
      const { requeued, failed } = await this.store.reap(MAX_LOST_RUNS, WORKER_LOST());
      // Metrics as for any run that ended in error: a re-queued run is retried, a failed one failed.
      for (const job of requeued) this.telemetry.failed(job, true);
      if (requeued.length) {
        this.logger.warn(REQUEUED_LOST(requeued.length));
        this.worker.wake(true);
      }
      for (const job of failed) {
        // A reaped member counts as failed in its batch (lib/workflows), once: this reaper reaped it.
        if (job.batchId) await this.worker.workflows?.memberFailed(job);
        this.telemetry.failed(job, false);
        this.events.publish(new ManagedJobFailedEvent(job));
      }
    } catch (error) {
      this.logger.warn(REAP_FAILED((error as Error).message));
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }
}
