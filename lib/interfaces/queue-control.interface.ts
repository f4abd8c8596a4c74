/** Options of `@ManagedJob()` that control when a job may be queued or started: `unique`, `concurrency`, `rateLimit`. */

/** What a key function sees of the job being dispatched besides its payload. */
export interface KeyFnJob {
  ownerUserId: string | null;
  ownerTenantId: string | null;
  queue: string;
}

/**
 * Computes a job's key from its payload (and owner, and queue) at dispatch. It must return a
 * string of at most 255 characters (not empty for `unique`; for `concurrency` and `rateLimit` the
 * empty string is a group like any other, e.g. `job.ownerTenantId ?? ''`); anything else refuses
 * the dispatch with `InvalidJobKeyError` and nothing is written.
 */
export type KeyFn<P = any> = (payload: P, job: KeyFnJob) => string;

/** `unique`: at most one live job per (type, key); a dispatch while one lives returns it. */
export interface UniqueJobOptions<P = any> {
  /** The unique key. `dispatch(…, { uniqueKey })` wins over it. @default the job type alone (one live job of this type) */
  key?: KeyFn<P>;
  /**
   * How long a job holds its key: until it first `'started'` (a dispatch while it runs queues a
   * new one), or until it `'finished'` (completed, failed or stopped). @default 'finished'
   */
  until?: 'started' | 'finished';
}

/** `concurrency`: at most `limit` runs of this job type with the same key at once, across every process. */
export interface ConcurrencyOptions<P = any> {
  /** Runs of one key at once. An integer ≥ 1. @default 1 */
  limit?: number;
  /** The concurrency key. @default the job type alone (at most `limit` runs of this type at all) */
  key?: KeyFn<P>;
}

/** `rateLimit`: at most `max` runs of this job type (per key) start in any sliding window of `perSeconds`. */
export interface RateLimitOptions<P = any> {
  /** Starts per window. An integer ≥ 1. */
  max: number;
  /** The window, in seconds (as Laravel); may be fractional, must be > 0. */
  perSeconds: number;
  /** The rate key. @default the job type alone (one limit for all runs of this type) */
  key?: KeyFn<P>;
}

/** The queue-control options of a job, checked at boot (`resolveQueueControl`). */
export interface QueueControl {
  unique: { key?: KeyFn; until: 'started' | 'finished' } | null;
  concurrency: { limit: number; key?: KeyFn } | null;
  rateLimit: { max: number; perSeconds: number; key?: KeyFn } | null;
}
