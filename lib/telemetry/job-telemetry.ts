import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { NewJob } from '../store/job-store.interface.js';

/**
 * What the library reports to OpenTelemetry. The module provides `NO_TELEMETRY` when telemetry is
 * off or `@opentelemetry/api` is not installed, so callers never test for either; the run
 * executor looks at `enabled` once per run and calls `run` only when it is true, so a run costs
 * nothing extra when telemetry is off, or on without an SDK registered.
 */
export interface JobTelemetry {
  /** Something records (an SDK is registered); read once per run. */
  readonly enabled: boolean;
  /**
   * Calls `insert` inside the dispatch span of `jobs` (one span for a batch; all one type), after
   * writing the span's W3C trace context into each job (`traceContext`). Counts the dispatched jobs.
   */
  dispatch<T>(jobs: NewJob[], insert: () => Promise<T>): Promise<T>;
  /**
   * Calls `handle` inside the run span of `job`, a child of its dispatch span (from the job row),
   * active while the handler runs so the handler's own spans nest under it. A rejection ends the
   * span with status ERROR and the exception. Records the wait and run durations.
   */
  run<T>(job: ManagedJobEntity, handle: () => T | Promise<T>): Promise<T>;
  /** A run's completion was recorded. */
  completed(job: ManagedJobEntity): void;
  /** A run's failure was recorded: the job runs again (`retrying`) or failed for good. */
  failed(job: ManagedJobEntity, retrying: boolean): void;
  /** Stops observing the queue (application shutdown). */
  close(): void;
}

/** Telemetry off: records nothing. */
export const NO_TELEMETRY: JobTelemetry = {
  enabled: false,
  dispatch: (_jobs, insert) => insert(),
  run: async (_job, handle) => handle(),
  completed: () => undefined,
  failed: () => undefined,
  close: () => undefined,
};
