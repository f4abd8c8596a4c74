import { Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { JOB_STORE, MOUNTED_PARTS, RESOLVED_OPTIONS } from './managed-jobs.constants.js';
import { EVENTS_IN_PROCESS } from './managed-jobs.messages.js';
import type { MountedParts, ResolvedOptions } from './managed-jobs.options.js';
import type { JobStore } from './store/job-store.interface.js';
import { GATEWAY_STATE } from './gateway/gateway.constants.js';
import type { GatewayState } from './gateway/gateway-activation.js';
import { ManagedJobsScheduler } from './maintenance/managed-jobs.scheduler.js';

/**
 * Says once, at start-up, what this process runs: the dialect, the queues and concurrency, and
 * which parts are on (worker, gateway, controller, schedule) and why not. On SQLite, a process
 * that looks like one of several (no worker here, or a worker without a gateway) is told once
 * that job events stay in the process that ran the job.
 */
@Injectable()
export class ManagedJobsStartup implements OnApplicationBootstrap {
  private readonly logger = new Logger('ManagedJobs');

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(MOUNTED_PARTS) private readonly mounted: MountedParts,
    private readonly scheduler: ManagedJobsScheduler,
    @Optional() @Inject(GATEWAY_STATE) private readonly gateway?: GatewayState,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const o = this.options;
    const gateway = !this.mounted.gateway
      ? 'off (gateway: false)'
      : this.gateway?.on
        ? `on (${o.broadcasting.namespace})`
        : `off (${this.gateway?.reason ?? 'not started'})`;
    const worker = o.worker.enabled ? `on (queues ${o.worker.queues.join(', ')}; concurrency ${o.worker.concurrency})` : 'off';
    const controller = this.mounted.controller ? `on (/${o.http.path})` : 'off';
    const schedule = await this.scheduler.state;
    this.logger.log(`nestjs-managed-jobs on ${this.store.dialect}: worker ${worker}, gateway ${gateway}, controller ${controller}, schedule ${schedule}.`);
    this.warnEventsInProcess();
  }

  private warnEventsInProcess(): void {
    if (this.store.capabilities.crossProcessEvents || !this.options.broadcasting.enabled) return;
    const why = !this.options.worker.enabled
      ? 'this process runs no worker (worker.enabled: false), so its jobs run in another process'
      : !this.mounted.gateway
        ? 'this process runs jobs without a gateway (gateway: false), as a worker-only process does'
        : null;
    if (!why) return;
    this.logger.warn(EVENTS_IN_PROCESS(this.store.dialect === 'sqlite' ? 'SQLite' : this.store.dialect, why));
  }
}
