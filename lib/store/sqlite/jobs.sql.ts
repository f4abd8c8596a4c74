/** Inserting and reading jobs, and the writes of a run that do not end it (SQLite). */
import type { NewJob, RunRef, ScopeFilter } from '../job-store.interface.js';
import { utcText } from '../row-mapper.js';
import { NOW, plusMs, type Sql } from './common.sql.js';
import { scopeWhere } from './scope.sql.js';

const INSERT_JOB = `INSERT INTO managed_jobs (job_id, type, queue, status, priority, payload, owner_user_id, owner_tenant_id,
    triggered_by_user_id, max_attempts, idempotent, available_at, created_at, updated_at, retry_until, stoppable)
  VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, COALESCE(?, ${plusMs('?')}), ${NOW}, ${NOW}, ?, ?)
  RETURNING job_id, available_at, created_at`;

/** One job (a batch is a loop of these in one transaction). Returns `job_id, available_at, created_at`. */
export function insertJob(j: NewJob): Sql {
  return {
    text: INSERT_JOB,
    values: [
      j.jobId,
      j.type,
      j.queue,
      j.priority,
      j.payload,
      j.ownerUserId,
      j.ownerTenantId,
      j.triggeredByUserId,
      j.maxAttempts,
      j.idempotent ? 1 : 0,
      j.availableAt ? utcText(j.availableAt) : null,
      j.delayMs,
      j.retryUntil ? utcText(j.retryUntil) : null,
      j.stoppable ? 1 : 0,
    ],
  };
}

/** `ctx.disableStop()`: marks the run (fenced), so that `stop()` refuses the job while it runs. */
export function disableStop(run: RunRef): Sql {
  return {
    text: `UPDATE managed_jobs SET stop_disabled_fence = fence WHERE job_id = ? AND fence = ? AND status = 'running'`,
    values: [run.jobId, run.fence],
  };
}

const FIND_JOB = `SELECT * FROM managed_jobs WHERE job_id = ?`;

export function findJob(jobId: string, scope?: ScopeFilter): Sql {
  const values: unknown[] = [jobId];
  const where = scopeWhere(scope, values);
  return { text: FIND_JOB + where, values };
}

const UPDATE_PROGRESS = `UPDATE managed_jobs SET progress_percentage = ?, progress_message = ?, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

export function updateProgress(run: RunRef, percent: number, message: string | null): Sql {
  return { text: UPDATE_PROGRESS, values: [percent, message, run.jobId, run.fence] };
}

const SAVE_STATE = `UPDATE managed_jobs SET state = ?, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'`;

export function saveState(run: RunRef, state: string): Sql {
  return { text: SAVE_STATE, values: [state, run.jobId, run.fence] };
}

const LOAD_STEPS = `SELECT name, result FROM managed_job_steps WHERE job_id = ?`;

export function loadSteps(jobId: string): Sql {
  return { text: LOAD_STEPS, values: [jobId] };
}

/** Recorded only while the run still owns the job, so a zombie cannot record a step. */
const SAVE_STEP = `INSERT INTO managed_job_steps (job_id, name, result, completed_at)
  SELECT job_id, ?, ?, ${NOW} FROM managed_jobs WHERE job_id = ? AND fence = ? AND status = 'running'
  ON CONFLICT (job_id, name) DO NOTHING`;

export function saveStep(run: RunRef, name: string, result: string | null): Sql {
  return { text: SAVE_STEP, values: [name, result, run.jobId, run.fence] };
}

/** A stopped run's late return value, for that run only: same fence, still stopped, no result yet. */
export function keepStoppedResult(run: RunRef, result: string): Sql {
  return {
    text: `UPDATE managed_jobs SET result = ?, updated_at = ${NOW} WHERE job_id = ? AND fence = ? AND status = 'stopped' AND result IS NULL`,
    values: [result, run.jobId, run.fence],
  };
}

/**
 * A fresh set of tries: `attempts` starts again at 0 (the ledger keeps every earlier run);
 * `retryUntil`, when not null, replaces the stored moment.
 */
export function retryJob(jobId: string, tries: number, retryUntil: Date | null, scope?: ScopeFilter): Sql {
  const values: unknown[] = [tries, retryUntil ? utcText(retryUntil) : null, jobId];
  const where = scopeWhere(scope, values);
  return {
    text: `UPDATE managed_jobs SET status = 'pending', attempts = 0, max_attempts = ?, retry_until = COALESCE(?, retry_until), progress_percentage = 0,
      progress_message = NULL, failed_reason = NULL, result = NULL, started_at = NULL, finished_at = NULL,
      available_at = ${NOW}, updated_at = ${NOW}
    WHERE job_id = ? AND status IN ('failed', 'stopped')${where}
    RETURNING *`,
    values,
  };
}
