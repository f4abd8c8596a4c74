import type { Type } from '@nestjs/common';
import type { OwnerRef } from './job-owner.interface.js';

/** What happens to occurrences missed while no worker ran (see the README, "Schedules"). */
export type ScheduleCatchUp = 'none' | 'latest' | 'all';
/** Whether an occurrence may start while the schedule's previous job is still pending or running. */
export type ScheduleOverlap = 'allow' | 'skip';

/** `@ManagedJob({ schedule })`: run this job on a cron, stored in the database. */
export interface JobScheduleOptions {
  /** 5 fields (`m h dom mon dow`), or 6 with seconds first. Refused at boot when it cannot be parsed. */
  cron: string;
  /** IANA time zone the cron is read in; DST is handled by the cron library. @default 'UTC' */
  timezone?: string;
  /** The payload of every job it dispatches. @default undefined (no payload) */
  payload?: unknown;
  /** The schedule's unique name. @default the job's name */
  name?: string;
  /**
   * After downtime (the due occurrence is more than a minute late): `latest` runs one job for the
   * missed occurrences, `all` one per missed occurrence (the latest 100 at most), `none` skips them.
   * @default 'latest'
   */
  catchUp?: ScheduleCatchUp;
  /** `skip`: an occurrence is skipped while the previous job of this schedule is pending or running. @default 'allow' */
  overlap?: ScheduleOverlap;
}

/** A schedule given to `forRoot({ schedules })` or `ManagedSchedulesService.upsert()`. */
export interface ScheduleDefinition extends JobScheduleOptions, OwnerRef {
  /** Unique among all schedules (and one-off `once()` names). */
  name: string;
  /** The job class (a `@ManagedJob()` provider) or its registered name. */
  job: Type | string;
  /**
   * Whether it fires. When omitted, an existing schedule keeps its state (an operator's `disable()`
   * survives a deploy) and a new one is enabled. @default true for a new schedule
   */
  enabled?: boolean;
}

/** A stored schedule, as `ManagedSchedulesService` returns it. */
export interface ScheduleRecord {
  name: string;
  cron: string;
  timezone: string;
  jobType: string;
  payload: unknown;
  enabled: boolean;
  catchUp: string;
  overlap: string;
  /** The next occurrence that will dispatch a job; null while disabled. */
  nextRunAt: Date | null;
  /** The occurrence (or `trigger()` time) of the last job dispatched. */
  lastRunAt: Date | null;
  lastJobId: string | null;
}
