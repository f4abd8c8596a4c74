/**
 * Every statement that ends a run (MySQL/MariaDB), and the ledger row each writes in the same
 * transaction: completion (`completed`), failure (`failureEnd`: `retrying`, `failed` or
 * `timeout`), shutdown hand-back (`released`, the try given back: the run was attempt
 * `attempts + 1`), stop (`stopped`, only for a running job, by the run's owner) and reaping
 * (`lost`). Ledger rows are copied from the job row just changed (`INSERT … SELECT`), so they
 * carry the times the job row got; the ledger's `finished_at` is the moment the row was changed.
 */
import type { Completion, Failure, RunRef, ScopeFilter } from '../job-store.interface.js';
import { failureEnd } from '../run-outcome.js';
import { NOW, placeholders, plusMs, type Sql } from './common.sql.js';
import { scopeWhere } from './scope.sql.js';

type Row = Record<string, any>;

const INSERT_ATTEMPT = `INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome, error)`;

/** `now`: the transaction's clock reading (UTC text). Matched rows count: 1 when the run was still theirs. */
const COMPLETE_JOB = `UPDATE managed_jobs SET status = 'completed', result = ?, progress_percentage = ?, progress_message = ?,
    failed_reason = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = ?, updated_at = ?
  WHERE job_id = ? AND fence = ? AND status = 'running'`;

export function completeJob(run: Completion, now: string): Sql {
  return { text: COMPLETE_JOB, values: [run.result, run.progress, run.message, now, now, run.jobId, run.fence] };
}

/** The ledger rows of the runs this transaction just completed (their rows are locked by it). */
export function completedAttempts(jobIds: string[], workerId: string): Sql {
  return {
    text: `${INSERT_ATTEMPT} SELECT job_id, fence, attempts, ?, started_at, finished_at, 'completed', NULL
      FROM managed_jobs WHERE job_id IN (${placeholders(jobIds.length)}) AND status = 'completed'`,
    values: [workerId, ...jobIds],
  };
}

const FAIL_JOB = `UPDATE managed_jobs SET status = ?, failed_reason = ?, progress_percentage = ?, progress_message = ?,
    available_at = IF(? = 'pending', ${plusMs('?')}, available_at),
    finished_at = IF(? = 'pending', NULL, ${NOW}),
    lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'`;

export function failJob(run: Failure): Sql {
  const end = failureEnd(run);
  return { text: FAIL_JOB, values: [end.status, run.reason, run.progress, run.message, end.status, end.delayMs, end.status, run.jobId, run.fence] };
}

const FAILED_ATTEMPT = `${INSERT_ATTEMPT} SELECT job_id, fence, attempts, ?, started_at, updated_at, ?, ? FROM managed_jobs WHERE job_id = ?`;

/** After `failJob` changed the row. */
export function failedAttempt(run: Failure, workerId: string): Sql {
  return { text: FAILED_ATTEMPT, values: [workerId, failureEnd(run).outcome, run.error, run.jobId] };
}

const RELEASE_JOB = `UPDATE managed_jobs SET status = 'pending', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL,
    lease_expires_at = NULL, available_at = ${plusMs('?')}, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'`;

/** Shutdown hand-back and `ctx.release()`: the run does not count as a try; due again in `delayMs`. */
export function releaseJob(run: RunRef, delayMs = 0): Sql {
  return { text: RELEASE_JOB, values: [delayMs, run.jobId, run.fence] };
}

const RELEASED_ATTEMPT = `${INSERT_ATTEMPT} SELECT job_id, fence, attempts + 1, ?, started_at, updated_at, 'released', NULL
  FROM managed_jobs WHERE job_id = ?`;

/** After `releaseJob` changed the row: the release gave the try back, the run was attempt `attempts + 1`. */
export function releasedAttempt(jobId: string, workerId: string): Sql {
  return { text: RELEASED_ATTEMPT, values: [workerId, jobId] };
}

/**
 * A job stops only while stoppable: not declared `stoppable: false`, and not running a run that
 * called `ctx.disableStop()` (that run's fence in `stop_disabled_fence`; a later run has another).
 * The locking read sees the newest committed row, so a stop and a concurrent `disableStop` cannot
 * both succeed.
 */
const STOP_ALLOWED = `stoppable AND (status <> 'running' OR stop_disabled_fence IS NULL OR stop_disabled_fence <> fence)`;

/** What a stop needs of the job before it changes it (was it running, and whose run), locked. */
export function stoppableJob(jobId: string, scope?: ScopeFilter): Sql {
  const values: unknown[] = [jobId];
  const where = scopeWhere(scope, values);
  return {
    text: `SELECT job_id, fence, status, attempts, lease_owner, started_at FROM managed_jobs
    WHERE job_id = ? AND status IN ('pending', 'running') AND ${STOP_ALLOWED}${where} FOR UPDATE`,
    values,
  };
}

const STOP_JOB = `UPDATE managed_jobs SET status = 'stopped', lease_owner = NULL, lease_expires_at = NULL,
    finished_at = ${NOW}, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status IN ('pending', 'running')`;

/** `old`: what `stoppableJob` returned. */
export function stopJob(old: Row): Sql {
  return { text: STOP_JOB, values: [old.job_id, old.fence] };
}

const STOPPED_ATTEMPT = `${INSERT_ATTEMPT} SELECT job_id, ?, ?, ?, ?, updated_at, 'stopped', NULL FROM managed_jobs WHERE job_id = ?`;

/** The ledger row of a stopped run, or null when the job was not running (a pending job had no run). */
export function stoppedAttempt(old: Row): Sql | null {
  if (old.status !== 'running') return null;
  return { text: STOPPED_ATTEMPT, values: [old.fence, old.attempts, old.lease_owner ?? '?', old.started_at, old.job_id] };
}

/**
 * Runs whose lease ran out belong to a dead (or frozen) worker, locked (skipping rows another
 * reaper holds). Idempotent ones go back to the queue without using up a try (`requeue`), unless
 * they have already been lost `maxLostRuns - 1` times; the rest fail.
 */
const EXPIRED_RUNS = `SELECT j.job_id, j.fence, j.attempts, j.lease_owner, j.started_at,
    (j.idempotent AND (SELECT count(*) FROM managed_job_attempts a WHERE a.job_id = j.job_id AND a.outcome = 'lost') < ? - 1) AS requeue
  FROM managed_jobs j WHERE j.status = 'running' AND j.lease_expires_at < ${NOW}
  FOR UPDATE SKIP LOCKED`;

export function expiredRuns(maxLostRuns: number): Sql {
  return { text: EXPIRED_RUNS, values: [maxLostRuns] };
}

const REQUEUE_LOST = `UPDATE managed_jobs SET status = 'pending', attempts = GREATEST(attempts - 1, 0), available_at = ${NOW},
    lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'`;

const FAIL_LOST = `UPDATE managed_jobs SET status = 'failed', failed_reason = ?,
    finished_at = ${NOW}, available_at = ${NOW}, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'`;

/** `dead`: a row of `expiredRuns`. Re-queued, or failed with `lostReason` (no worker id in it: that is in the ledger). */
export function endLostRun(dead: Row, lostReason: string): Sql {
  return Number(dead.requeue) ? { text: REQUEUE_LOST, values: [dead.job_id, dead.fence] } : { text: FAIL_LOST, values: [lostReason, dead.job_id, dead.fence] };
}

/** After `endLostRun` changed the row. */
export function lostAttempt(dead: Row): Sql {
  return { text: STOPPED_ATTEMPT.replace(`'stopped'`, `'lost'`), values: [dead.fence, dead.attempts, dead.lease_owner ?? '?', dead.started_at, dead.job_id] };
}
