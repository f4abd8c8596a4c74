import type { Type } from '@nestjs/common';
import type { JobScheduleOptions } from './schedule-options.interface.js';

/** What `@ManagedJob()` declares about a job. */
export interface ManagedJobOptions {
  /** The name stored in `managed_jobs.type` and used to dispatch by name. @default the class name */
  name?: string;
  /** A class-validator class; payloads are validated against it (unknown properties refused). */
  payload?: Type<object>;
  /** The queue it goes to unless `dispatch()` names another. @default the module's `queue.name` */
  queue?: string;
  /** How many runs in all before the job is failed for good. @default 1 */
  tries?: number;
  /**
   * Seconds to wait before each retry: one number for every retry, or one per retry
   * (`[1, 5, 30]`; the last repeats). @default 0
   */
  backoff?: number | number[];
  /** Seconds a run may take before `ctx.signal` aborts and the attempt fails. @default none */
  timeout?: number;
  /**
   * Whether a run cut short by a lost worker may run again by itself. Set false for jobs with
   * side effects that must not happen twice: they end `failed` for an operator instead. @default true
   */
  idempotent?: boolean;
  /** Whether `POST /jobs` may dispatch it (when the HTTP controller is enabled). @default false */
  http?: boolean;
  /** Default priority for its dispatches; higher runs first. @default 0 */
  priority?: number;
  /**
   * Run this job on a cron, stored in the database and fired once per occurrence across every
   * process (see `ManagedSchedulesService`). Created or updated at boot. @default none
   */
  schedule?: JobScheduleOptions;
}
