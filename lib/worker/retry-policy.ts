/**
 * Whether a failed run is tried again, and when (Laravel's rules): `UnrecoverableJobError` and,
 * with `failOnTimeout`, a timeout end the job; else `retryUntil` (stored at dispatch) decides
 * when the job has one, taking precedence over `tries` as in Laravel, and `tries` when not. The
 * delay is the job's backoff: a list (the last entry repeating) or a function of the failed try
 * and its error.
 */
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { RunPolicy } from '../discovery/job-options.js';
import { UnrecoverableJobError } from '../errors/managed-jobs.errors.js';
import { backoffSeconds } from './active-run.js';

/**
 * Seconds until the next try, or null when this failure ends the job. `badBackoff` is told
 * when a backoff function throws or returns no number ≥ 0 (the retry then has no delay).
 */
export function nextTry(
  job: ManagedJobEntity,
  policy: RunPolicy,
  error: Error,
  outcome: 'failed' | 'timeout',
  badBackoff: (why: string) => void,
): number | null {
  if (error instanceof UnrecoverableJobError) return null;
  if (outcome === 'timeout' && policy.failOnTimeout) return null;
  const again = job.retryUntil ? Date.now() < job.retryUntil.getTime() : job.attempts < job.maxAttempts;
  if (!again) return null;
  if (Array.isArray(policy.backoff)) return backoffSeconds(policy.backoff, job.attempts);
  let seconds: unknown;
  try {
    seconds = policy.backoff(job.attempts, error);
  } catch (thrown) {
    seconds = thrown;
  }
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return seconds;
  badBackoff(seconds instanceof Error ? seconds.message : String(seconds));
  return 0;
}
