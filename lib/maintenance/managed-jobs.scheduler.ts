import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CronJob } from 'cron';
import { JOB_STORE, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import { CRON_MISSING, SCHEDULER_MISSING, SCHEDULE_PACKAGE_MISSING } from '../managed-jobs.messages.js';
import { loadOptionalPeer } from '../optional-peers.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { JobStore } from '../store/job-store.interface.js';
import { ManagedJobFilesService } from '../files/managed-job-files.service.js';
import { ManagedJobsMaintenanceService } from './managed-jobs-maintenance.service.js';
import { createDailyCron } from './daily-cron.js';

/** Lock held by the one server that runs the daily maintenance. */
export const DAILY_MAINTENANCE_LOCK = 'nestjs-managed-jobs:daily-maintenance';
/** Name of the cron job in `SchedulerRegistry`. */
export const DAILY_MAINTENANCE_CRON = 'managed-jobs.daily-maintenance';

export interface DailyMaintenanceResult {
  expiredFiles: number;
  prunedJobs: number;
}

interface Registry {
  addCronJob(name: string, job: CronJob): void;
  deleteCronJob(name: string): void;
  doesExist(type: 'cron', name: string): boolean;
}

/**
 * Registers the daily maintenance (file expiry, then pruning when `retentionDays` is set) with the
 * host app's `@nestjs/schedule` at `schedule.expireFilesAt`. The library never calls
 * `ScheduleModule.forRoot()`: without it, a warning is logged and nothing is scheduled. A run is
 * skipped when one is already going here or on another server sharing the database.
 */
@Injectable()
export class ManagedJobsScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ManagedJobs');
  private registry?: Registry;
  private cronName?: string;
  private cron?: CronJob;
  private running?: Promise<DailyMaintenanceResult | null>;
  private settle!: (state: string) => void;
  /** Whether the daily maintenance is scheduled (`on (HH:mm)`), or why not; settles at bootstrap. */
  readonly state = new Promise<string>((resolve) => (this.settle = resolve));

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    private readonly files: ManagedJobFilesService,
    private readonly maintenance: ManagedJobsMaintenanceService,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      this.settle(await this.start());
    } catch (error) {
      this.settle('off (failed to start)');
      throw error;
    }
  }

  private async start(): Promise<string> {
    if (!this.options.schedule.enabled) return 'off (schedule.enabled is false)';
    const schedule = await loadOptionalPeer('@nestjs/schedule', () => import('@nestjs/schedule'));
    if (!schedule) {
      this.logger.warn(SCHEDULE_PACKAGE_MISSING());
      return 'off (@nestjs/schedule is not installed)';
    }
    const registry = this.findRegistry(schedule.SchedulerRegistry);
    if (!registry) {
      this.logger.warn(SCHEDULER_MISSING());
      return 'off (ScheduleModule.forRoot() is not imported)';
    }
    const cron = await loadOptionalPeer('cron', () => import('cron'));
    if (!cron) {
      this.logger.warn(CRON_MISSING());
      return 'off (cron is not installed)';
    }
    const { CronJob } = cron;
    let name = DAILY_MAINTENANCE_CRON;
    for (let i = 2; registry.doesExist('cron', name); i++) name = `${DAILY_MAINTENANCE_CRON}.${i}`;
    this.cron = createDailyCron(CronJob, this.options.schedule.expireFilesAt, () => this.runDaily());
    registry.addCronJob(name, this.cron);
    this.registry = registry;
    this.cronName = name;
    return `on (${this.options.schedule.expireFilesAt})`;
  }

  /**
   * One maintenance run, as the schedule starts it. Returns null (and does nothing) when a run is
   * already going in this process or on another server. Errors are logged, never thrown.
   */
  runDaily(): Promise<DailyMaintenanceResult | null> {
    if (this.running) return Promise.resolve(null);
    const run = this.store
      .runExclusive(DAILY_MAINTENANCE_LOCK, async () => ({
        expiredFiles: await this.files.expireFiles(),
        prunedJobs: await this.maintenance.pruneFinished(),
      }))
      .then((outcome) => (outcome.acquired ? outcome.value : null))
      .catch((error: Error) => {
        this.logger.error(`Daily maintenance failed: ${error?.message ?? error}`, error?.stack);
        return null;
      })
      .finally(() => {
        this.running = undefined;
      });
    this.running = run;
    return run;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.cron?.stop();
    if (this.registry && this.cronName && this.registry.doesExist('cron', this.cronName)) this.registry.deleteCronJob(this.cronName);
    this.cron = undefined;
    await this.running;
  }

  private findRegistry(token: Function): Registry | null {
    try {
      return this.moduleRef.get(token, { strict: false }) as Registry;
    } catch {
      return null;
    }
  }
}
