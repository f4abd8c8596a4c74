import type { JobContext } from './job-context.interface.js';

/** The contract of a `@ManagedJob()` provider. */
export interface ManagedJobHandler<P = unknown, R = unknown> {
  /** Do the work. What it returns (JSON-serialisable) is stored as the job's `result`. */
  handle(ctx: JobContext<P>): Promise<R> | R;
  /** Called once the job has failed for good (retries exhausted, or lost and not idempotent). */
  failed?(error: Error, ctx: JobContext<P>): Promise<void> | void;
}
