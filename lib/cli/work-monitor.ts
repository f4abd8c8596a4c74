import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { JobEventsPublisher } from '../events/job-events.publisher.js';
import { ManagedJobEvents } from '../events/managed-job.events.js';
import { JobWorker } from '../worker/job-worker.js';

/** Injection token of the `work` command's run limit (`--once`: 1, `--max-jobs n`), or null. */
export const CLI_RUN_LIMIT = Symbol.for('nestjs-managed-jobs:cli-run-limit');

/**
 * Set up by `work` before the app boots (its `onModuleInit` runs before the worker starts at
 * bootstrap): listens for SIGTERM/SIGINT from then on (a signal that came while the app was still
 * booting would otherwise kill the process with its jobs claimed), caps the claims of this
 * process's worker at the run limit, and says when that many runs have started and none is
 * running any more.
 */
@Injectable()
export class CliWorkMonitor implements OnModuleInit, OnModuleDestroy {
  private started = 0;
  private worker?: JobWorker;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private done!: () => void;
  /** Resolves when the run limit is reached and the last run ended. */
  readonly limitReached = new Promise<void>((resolve) => (this.done = resolve));
  private onSignal!: (signal: NodeJS.Signals) => void;
  /** Resolves with the first SIGTERM or SIGINT. */
  readonly signalled = new Promise<NodeJS.Signals>((resolve) => (this.onSignal = resolve));

  constructor(
    @Inject(CLI_RUN_LIMIT) private readonly limit: number | null,
    private readonly events: JobEventsPublisher,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    process.once('SIGTERM', this.onSignal);
    process.once('SIGINT', this.onSignal);
    if (this.limit === null) return;
    this.worker = this.moduleRef.get(JobWorker, { strict: false });
    this.worker.limitRuns(this.limit);
    this.unsubscribe = this.events.subscribe((event) => {
      if (event.name === ManagedJobEvents.Started) this.started++;
      this.check();
    });
    // A run that ends without an event (handed back, lost) is seen here.
    this.timer = setInterval(() => this.check(), 200);
    this.timer.unref();
    this.check();
  }

  private check(): void {
    if (this.started >= this.limit! && this.worker!.activeCount === 0) this.done();
  }

  onModuleDestroy(): void {
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    clearInterval(this.timer);
    this.unsubscribe?.();
  }
}
