/**
 * The schedule ticker: runs where the worker runs, and turns due occurrences into jobs.
 *
 * It sleeps until the earliest `next_run_at` of the enabled schedules (one indexed read), capped at
 * `MAX_SLEEP_MS`. A change made in this process (`ManagedSchedulesService`) wakes it at once; the
 * cap is how changes made by other processes are seen within a second. We chose the cap over a
 * LISTEN connection: it is one cheap query per second per process, works the same on SQLite (which
 * has no NOTIFY), needs no extra connection per process and cannot miss a notification.
 *
 * Boot: the declared schedules are checked and written first (`DeclaredSchedules`); a bad one
 * fails the boot before any timer starts. Shutdown: the timer is cleared and a tick in flight is
 * awaited, so nothing is left open after `app.close()`.
 */
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { SCHEDULE_TICK_FAILED } from '../managed-jobs.messages.js';
import { JobRegistry } from '../discovery/job-registry.js';
import { JobRunnerService } from '../services/job-runner.service.js';
import { JobWorker } from '../worker/job-worker.js';
import { parseCron } from './cron.js';
import { DeclaredSchedules } from './declared-schedules.js';
import { ScheduleChanges } from './schedule-changes.js';
import { fireSchedule } from './schedule-firing.js';
import type { ScheduleRow } from './schedule-row.js';
import { ScheduleStore } from './schedule.store.js';
import { fromUtcText } from './utc-text.js';

/** Longest sleep: how soon a change made by another process is seen. */
export const MAX_SLEEP_MS = 1000;
/** Due schedules read per query. */
const DUE_BATCH = 50;

@Injectable()
export class ScheduleTicker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ManagedJobs');
  private started = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private wokenWhileTicking = false;
  /** Schedules this process cannot fire (job not registered here), warned about once. */
  private readonly unfireable = new Set<string>();

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly store: ScheduleStore,
    private readonly registry: JobRegistry,
    private readonly runner: JobRunnerService,
    private readonly worker: JobWorker,
    private readonly declared: DeclaredSchedules,
    changes: ScheduleChanges,
  ) {
    changes.onChange(() => this.wake());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.declared.sync();
    if (!this.options.worker.enabled) return;
    this.started = true;
    this.wake();
  }

  /** Look at the schedules now (a change was made, or the timer fired). */
  wake(): void {
    if (!this.started || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ticking) {
      this.wokenWhileTicking = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (this.wokenWhileTicking) {
        this.wokenWhileTicking = false;
        this.wake();
      }
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  private async tick(): Promise<void> {
    let sleepMs = MAX_SLEEP_MS;
    try {
      sleepMs = await this.fireDue();
    } catch (error) {
      this.logger.warn(SCHEDULE_TICK_FAILED((error as Error)?.message ?? String(error)));
    }
    if (this.stopped || this.wokenWhileTicking) return;
    this.timer = setTimeout(() => this.wake(), sleepMs);
  }

  /** Fires what is due; returns how long to sleep. */
  private async fireDue(): Promise<number> {
    for (;;) {
      if (this.stopped) return MAX_SLEEP_MS;
      const head = await this.store.one<{ next_at: string | null; db_now: string }>(this.store.sql.nextDue());
      const nextAt = fromUtcText(head?.next_at);
      if (!head || !nextAt) return MAX_SLEEP_MS;
      const waitMs = nextAt.getTime() - fromUtcText(head.db_now)!.getTime();
      if (waitMs > 0) return Math.min(MAX_SLEEP_MS, waitMs);
      const rows = await this.store.rows<ScheduleRow>(this.store.sql.due(DUE_BATCH));
      let handled = 0;
      for (const row of rows) {
        if (this.stopped) break;
        if (await this.fire(row)) handled++;
      }
      // Only rows this process cannot fire are due: leave them to a process that can.
      if (!handled) return MAX_SLEEP_MS;
    }
  }

  private async fire(row: ScheduleRow): Promise<boolean> {
    const key = `${row.name}\0${row.job_type}\0${row.cron}\0${row.timezone}`;
    if (this.unfireable.has(key)) return false;
    let cron;
    try {
      if (!this.registry.get(row.job_type)) throw new Error(`no @ManagedJob() named "${row.job_type}" is registered in this process`);
      cron = parseCron(row.name, row.cron ?? '', row.timezone);
    } catch (error) {
      this.unfireable.add(key);
      this.logger.warn(`Schedule ${JSON.stringify(row.name)} is due but this process cannot fire it: ${(error as Error).message}`);
      return false;
    }
    const jobs = await fireSchedule(row, cron, this.store, this.runner, this.logger);
    // PostgreSQL's insert already woke every worker (NOTIFY at commit); SQLite has no NOTIFY.
    if (jobs.length) this.worker.wake(true);
    return true;
  }
}
