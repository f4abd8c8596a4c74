/**
 * Every statement that ends a run (SQLite), and the ledger row each writes in the same
 * transaction: completion (`completed`), failure (`failureEnd`: `retrying`, `failed` or
 * `timeout`), shutdown hand-back (`released`, the try given back: the run was attempt
 * `attempts + 1`), stop (`stopped`, only for a running job, by the run's owner) and reaping
 * (`lost`). The ledger's `finished_at` is the moment the job row was changed.
 */
import type { Completion, Failure, RunRef, ScopeFilter } from '../job-store.interface.js';
import { failureEnd } from '../run-outcome.js';
import { NOW, plusMs, type Sql } from './common.sql.js';
import { scopeWhere } from './scope.sql.js';

/** A job row as the statements below return it (the columns the ledger needs). */
type Row = Record<string, any>;

/** The ledger row of a run, written when the run ends (a run in progress is the job row itself). */
const INSERT_ATTEMPT = `INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

function attempt(jobId: string, fence: number, n: number, workerId: string, startedAt: unknown, finishedAt: unknown, outcome: string, error: string | null): Sql {
  return { text: INSERT_ATTEMPT, values: [jobId, fence, n, workerId, startedAt, finishedAt, outcome, error] };
}

/** `@now` is a parameter, as in the claim. Returns `job_id, attempts, started_at, finished_at`. */
const COMPLETE_JOB = `UPDATE managed_jobs SET status = 'completed', result = @result, progress_percentage = @progress,
    progress_message = @message, failed_reason = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = @now, updated_at = @now
  WHERE job_id = @jobId AND fence = @fence AND status = 'running'
  RETURNING job_id, attempts, started_at, finished_at`;

/** `now`: the transaction's clock reading, as UTC text. */
export function completeJob(run: Completion, now: string): Sql {
  return { text: COMPLETE_JOB, values: [{ result: run.result, progress: run.progress, message: run.message, jobId: run.jobId, fence: run.fence, now }] };
}

/** `row`: what `completeJob` returned. */
export function completedAttempt(run: RunRef, row: Row, workerId: string): Sql {
  return attempt(run.jobId, run.fence, row.attempts, workerId, row.started_at, row.finished_at, 'completed', null);
}

const FAIL_JOB = `UPDATE managed_jobs SET status = @status, failed_reason = @reason, progress_percentage = @progress,
    progress_message = @message,
    available_at = CASE WHEN @status = 'pending' THEN ${plusMs('@delayMs')} ELSE available_at END,
    finished_at = CASE WHEN @status = 'pending' THEN NULL ELSE ${NOW} END,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = @jobId AND fence = @fence AND status = 'running'
  RETURNING *`;

export function failJob(run: Failure): Sql {
  const end = failureEnd(run);
  return {
    text: FAIL_JOB,
    values: [{ status: end.status, reason: run.reason, progress: run.progress, message: run.message, delayMs: end.delayMs, jobId: run.jobId, fence: run.fence }],
  };
}

/** `row`: what `failJob` returned. */
export function failedAttempt(run: Failure, row: Row, workerId: string): Sql {
  return attempt(row.job_id, row.fence, row.attempts, workerId, row.started_at, row.updated_at, failureEnd(run).outcome, run.error);
}

const RELEASE_JOB = `UPDATE managed_jobs SET status = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL,
    lease_expires_at = NULL, available_at = ${plusMs('?')}, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

/** Shutdown hand-back and `ctx.release()`: the run does not count as a try; due again in `delayMs`. */
export function releaseJob(run: RunRef, delayMs = 0): Sql {
  return { text: RELEASE_JOB, values: [delayMs, run.jobId, run.fence] };
}

/** `row`: what `releaseJob` returned. The release gave the try back: the run was attempt `attempts + 1`. */
export function releasedAttempt(row: Row, workerId: string): Sql {
  return attempt(row.job_id, row.fence, row.attempts + 1, workerId, row.started_at, row.updated_at, 'released', null);
}

/**
 * A job stops only while stoppable: not declared `stoppable: false`, and not running a run that
 * called `ctx.disableStop()` (that run's fence in `stop_disabled_fence`; a later run has another).
 */
export const STOP_ALLOWED = `stoppable AND (status <> 'running' OR stop_disabled_fence IS NULL OR stop_disabled_fence <> fence)`;

/** What a stop needs of the job before it changes it (was it running, and whose run). */
export function stoppableJob(jobId: string, scope?: ScopeFilter): Sql {
  const values: unknown[] = [jobId];
  const where = scopeWhere(scope, values);
  return {
    text: `SELECT job_id, fence, status, attempts, lease_owner, started_at FROM managed_jobs
    WHERE job_id = ? AND status IN ('pending', 'running') AND ${STOP_ALLOWED}${where}`,
    values,
  };
}

const STOP_JOB = `UPDATE managed_jobs SET status = 'stopped', lease_owner = NULL, lease_expires_at = NULL,
    finished_at = ${NOW}, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status IN ('pending', 'running')
  RETURNING *`;

/** `old`: what `stoppableJob` returned. */
export function stopJob(old: Row): Sql {
  return { text: STOP_JOB, values: [old.job_id, old.fence] };
}

/** The ledger row of a stopped run, or null when the job was not running (a pending job had no run). */
export function stoppedAttempt(old: Row, stopped: Row): Sql | null {
  if (old.status !== 'running') return null;
  return attempt(old.job_id, old.fence, old.attempts, old.lease_owner ?? '?', old.started_at, stopped.updated_at, 'stopped', null);
}

/**
 * Runs whose lease ran out belong to a dead (or frozen) worker. Idempotent ones go back to the
 * queue without using up a try (`requeue`), unless they have already been lost `maxLostRuns - 1`
 * times (a job that kills its worker must not loop forever); the rest fail.
 */
const EXPIRED_RUNS = `SELECT j.job_id, j.fence, j.attempts, j.lease_owner, j.started_at,
    (j.idempotent AND (SELECT count(*) FROM managed_job_attempts a WHERE a.job_id = j.job_id AND a.outcome = 'lost') < ? - 1) AS requeue
  FROM managed_jobs j WHERE j.status = 'running' AND j.lease_expires_at < ${NOW}`;

export function expiredRuns(maxLostRuns: number): Sql {
  return { text: EXPIRED_RUNS, values: [maxLostRuns] };
}

const REQUEUE_LOST = `UPDATE managed_jobs SET status = 'pending', attempts = MAX(attempts - 1, 0), available_at = ${NOW},
    lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

const FAIL_LOST = `UPDATE managed_jobs SET status = 'failed', failed_reason = ?,
    finished_at = ${NOW}, available_at = ${NOW}, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

/** `dead`: a row of `expiredRuns`. Re-queued or failed with `lostReason` (the owner sees it: no worker id in it, that is in the ledger). */
export function endLostRun(dead: Row, lostReason: string): Sql {
  return dead.requeue ? { text: REQUEUE_LOST, values: [dead.job_id, dead.fence] } : { text: FAIL_LOST, values: [lostReason, dead.job_id, dead.fence] };
}

/** `dead`: a row of `expiredRuns`; `row`: what `endLostRun` returned. */
export function lostAttempt(dead: Row, row: Row): Sql {
  return attempt(dead.job_id, dead.fence, dead.attempts, dead.lease_owner ?? '?', dead.started_at, row.updated_at, 'lost', null);
}
