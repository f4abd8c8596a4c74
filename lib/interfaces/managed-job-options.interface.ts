import type { Type } from '@nestjs/common';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { JobMiddleware } from './job-middleware.interface.js';
import type { ConcurrencyOptions, RateLimitOptions, UniqueJobOptions } from './queue-control.interface.js';
import type { JobScheduleOptions } from './schedule-options.interface.js';

/**
 * Seconds before retry `attempt + 1`, given the try that just failed (1-based) and its error
 * (Laravel's `backoff()` method). A throw or a value that is not a number ≥ 0 counts as 0.
 */
export type BackoffFn = (attempt: number, error: Error) => number;

/** What `@ManagedJob()` declares about a job. */
export interface ManagedJobOptions {
  /** The name stored in `managed_jobs.type` and used to dispatch by name. @default the class name */
  name?: string;
  /** A class-validator class; payloads are validated against it (unknown properties refused). */
  payload?: Type<object>;
  /** The queue it goes to unless `dispatch()` names another. @default the module's `queue.name` */
  queue?: string;
  /** How many runs in all before the job is failed for good. @default the module's `jobDefaults.tries`, else 1 */
  tries?: number;
  /**
   * Seconds to wait before each retry: one number for every retry, one per retry (`[1, 5, 30]`;
   * the last repeats), or a function of the failed try and its error.
   * @default the module's `jobDefaults.backoff`, else 0
   */
  backoff?: number | number[] | BackoffFn;
  /** Seconds a run may take before `ctx.signal` aborts and the attempt fails. @default the module's `jobDefaults.timeout`, else none */
  timeout?: number;
  /**
   * The moment after which the job is no longer retried, evaluated once at dispatch (with the
   * record as it will be inserted) and stored. Until then a failing run is retried whatever
   * `tries` says (as Laravel's `retryUntil()`, it takes precedence over `tries`); the first
   * failure or `ctx.release()` after it ends the job `failed`. @default none
   */
  retryUntil?: (job: ManagedJobEntity) => Date;
  /** A timed-out run fails the job for good instead of using the next try. @default the module's `jobDefaults.failOnTimeout`, else false */
  failOnTimeout?: boolean;
  /**
   * Middleware classes around every run of this job, outermost first, inside the module-wide
   * ones (see `JobMiddleware`). @default []
   */
  middleware?: Type<JobMiddleware>[];
  /**
   * Whether `stop()` may stop this job. `false`: it is refused with `JobStateConflictError`
   * (HTTP 409). A run can also refuse stops from a point on with `ctx.disableStop()`. @default true
   */
  stoppable?: boolean;
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
