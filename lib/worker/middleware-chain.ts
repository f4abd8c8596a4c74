import type { JobContext } from '../interfaces/job-context.interface.js';
import type { JobMiddleware } from '../interfaces/job-middleware.interface.js';
import { ManagedJobsError } from '../errors/managed-jobs.errors.js';
import { MIDDLEWARE_NEXT_TWICE } from '../managed-jobs.messages.js';

/**
 * Runs `handle` inside `chain` (outermost first): each middleware's `next()` runs the rest. What
 * the outermost `use` resolves with is the run's result, so a middleware may skip `next()` and
 * answer itself. Only jobs with middleware come here; the others call `handle` directly.
 */
export function runThrough(chain: JobMiddleware[], ctx: JobContext, handle: () => unknown): Promise<unknown> {
  const step = (i: number): Promise<unknown> => {
    if (i === chain.length) return Promise.resolve().then(handle);
    let called = false;
    const next = () => {
      if (called) return Promise.reject(new ManagedJobsError(MIDDLEWARE_NEXT_TWICE()));
      called = true;
      return step(i + 1);
    };
    return Promise.resolve().then(() => chain[i].use(ctx, next));
  };
  return step(0);
}
