import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { JOB_STORE, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { JobEventsPublisher } from '../events/job-events.publisher.js';
import type { ManagedJobEvent } from '../events/managed-job.events.js';
import type { JobStore } from '../store/job-store.interface.js';
import { BroadcastEvents } from './gateway.constants.js';
import { broadcastEventName, toJobBroadcast } from './job-broadcast.payload.js';
import { encodeBatchRelayMessage, encodeRelayMessage } from './relay-message.js';
import { toBatchBroadcast } from './batch-broadcaster.js';
import { BatchBroadcastEvents } from './gateway.constants.js';
import { ManagedBatchEvents, type ManagedBatchEvent } from '../workflows/batch.events.js';

/**
 * Sends every job event of this process to the other processes through PostgreSQL (NOTIFY on
 * `managed_jobs_events`), so a worker-only process reaches the sockets of the web processes.
 * Runs in every process on PostgreSQL with broadcasting on, gateway or not; a no-op on SQLite.
 * It sends only while a gateway of another process listens (gateways hold a shared advisory lock
 * on their LISTEN connection; `pg_locks` is checked every `LISTENERS_CHECK_MS`): without one, a
 * busy worker would spend a third of its time encoding and notifying events nobody receives.
 *
 * Events are buffered and sent in order, many per statement: while one batch is in flight the
 * next accumulates, so a busy worker pays one round trip per batch rather than one per event
 * (one per event would add two round trips per job, started and completed, to the hot path). The worker publishes only after a successful, fenced write, so a zombie
 * worker's late writes never reach a browser.
 */
/** How often the relay checks whether any gateway listens. */
const LISTENERS_CHECK_MS = 1000;

@Injectable()
export class JobEventsRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ManagedJobs');
  private unsubscribe?: () => void;
  private unsubscribeBatches?: () => void;
  private readonly buffer: string[] = [];
  private flushing?: Promise<void>;
  private checkTimer?: NodeJS.Timeout;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    private readonly events: JobEventsPublisher,
  ) {}

  /** This process's id in relayed messages; gateways skip their own (delivered directly). */
  get origin(): string {
    return this.options.worker.id;
  }

  onApplicationBootstrap(): void {
    if (!this.options.broadcasting.enabled || !this.store.capabilities.crossProcessEvents) return;
    // Subscribed only while someone listens, so that a worker with no gateway anywhere does not
    // even build the events it would relay (see JobEventsPublisher.wants).
    const follow = (present: boolean) => {
      if (present && !this.unsubscribe) {
        this.unsubscribe = this.events.subscribe((event) => this.relay(event));
        this.unsubscribeBatches = this.events.subscribeBatches((event) => this.relayBatch(event));
      }
      if (!present && this.unsubscribe) {
        this.unsubscribe();
        this.unsubscribeBatches?.();
        this.unsubscribe = this.unsubscribeBatches = undefined;
      }
    };
    follow(true);
    const check = () =>
      this.store.hasEventListeners().then(
        (present) => follow(present),
        () => follow(true), // unsure: keep sending
      );
    void check();
    this.checkTimer = setInterval(check, LISTENERS_CHECK_MS);
    this.checkTimer.unref();
  }

  private relay(event: ManagedJobEvent): void {
    const name = broadcastEventName(event.name);
    if (!name) return;
    const message = encodeRelayMessage(this.origin, name, toJobBroadcast(event.job, name === BroadcastEvents.Completed));
    this.buffer.push(message);
    this.flushing ??= this.flush();
  }

  /** Batch events (lib/workflows) go the same way, in the same buffer. */
  private relayBatch(event: ManagedBatchEvent): void {
    const name = event.name === ManagedBatchEvents.Finished ? BatchBroadcastEvents.Finished : BatchBroadcastEvents.Progress;
    this.buffer.push(encodeBatchRelayMessage(this.origin, name, toBatchBroadcast(event.batch)));
    this.flushing ??= this.flush();
  }

  private async flush(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.splice(0, 500);
      try {
        await this.store.publishEvents(batch);
      } catch (error) {
        this.logger.warn(`Could not relay ${batch.length} job event(s): ${(error as Error).message}`);
      }
    }
    this.flushing = undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.checkTimer);
    this.unsubscribe?.();
    this.unsubscribeBatches?.();
    await this.flushing;
  }
}
