/**
 * The rule of a failed run, shared by both dialects' statements that end a run
 * (`postgres/run-end.sql.ts`, `sqlite/run-end.sql.ts`, where the other endings are written):
 * a failure with a next try puts the job back in the queue and records `retrying` (a timeout
 * keeps `timeout`); without one the job fails with the failure's own outcome.
 */
import type { AttemptOutcome } from '../entities/managed-job-attempt.entity.js';
import type { Failure } from './job-store.interface.js';

export interface FailureEnd {
  /** The job goes back to the queue (another try) or fails for good. */
  status: 'pending' | 'failed';
  /** The ledger row's outcome. */
  outcome: AttemptOutcome;
  /** When the next try may start, from now. */
  delayMs: number;
}

export function failureEnd(run: Failure): FailureEnd {
  const retry = run.retryInSeconds !== null;
  return {
    status: retry ? 'pending' : 'failed',
    outcome: retry && run.outcome === 'failed' ? 'retrying' : run.outcome,
    delayMs: (run.retryInSeconds ?? 0) * 1000,
  };
}
