import type { JobContext } from './job-context.interface.js';

/**
 * Wraps the runs of jobs, as Laravel's job middleware: listed in `@ManagedJob({ middleware })` or
 * module-wide in `forRoot({ middleware })` (module-wide ones wrap the job's own). Resolved through
 * Nest's DI: a listed provider, else created with its dependencies injected.
 *
 * `next()` runs the rest of the chain and the handler and resolves with its result; a middleware
 * may skip it, and what `use` resolves with is the run's result. Throwing fails the try, as a
 * throwing handler does (`UnrecoverableJobError` fails the job at once).
 */
export interface JobMiddleware {
  use(ctx: JobContext, next: () => Promise<unknown>): Promise<unknown>;
}
