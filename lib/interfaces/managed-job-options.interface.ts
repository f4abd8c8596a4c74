import type { Type } from '@nestjs/common';
import type { ConcurrencyOptions, RateLimitOptions, UniqueJobOptions } from './queue-control.interface.js';
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
  /**
   * At most one live job per (type, unique key), enforced by the database: while one is
   * `pending` (or `running`, with `until: 'finished'`), `dispatch()` writes nothing and returns
   * it. `true` means `{ until: 'finished' }` with the type as key. Laravel's `ShouldBeUnique`
   * (`until: 'finished'`) and `ShouldBeUniqueUntilProcessing` (`until: 'started'`). @default none
   */
  unique?: boolean | UniqueJobOptions;
  /**
   * At most `limit` runs of this type with the same key at once, across every worker of every
   * process; the others wait in `pending`, in order, using no try. `{ limit: 1, key }` is
   * Laravel's `WithoutOverlapping(key)`. @default none (no limit)
   */
  concurrency?: ConcurrencyOptions;
  /**
   * At most `max` runs of this type (per key) start in any sliding window of `perSeconds`,
   * across every process; jobs over the limit stay `pending`, use no try, and start as soon as
   * the window allows. Laravel's `RateLimited`, BullMQ's `limiter`. @default none (no limit)
   */
  rateLimit?: RateLimitOptions;
}
