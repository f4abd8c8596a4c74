/**
 * SQLite statements of the queue. SQLite has no arrays and no data-modifying CTEs, so batches are
 * loops of these prepared statements inside one immediate transaction (cheap: better-sqlite3 is
 * synchronous and the statements are cached). Placeholders are positional `?`.
 */
import type { ListFilter, ScopeFilter } from '../job-store.interface.js';

export const NOW = `strftime('%Y-%m-%d %H:%M:%f', 'now')`;
const plusMs = (param: string) => `strftime('%Y-%m-%d %H:%M:%f', 'now', printf('%+.3f seconds', ${param} / 1000.0))`;

export function scopeWhere(scope: ScopeFilter | undefined, values: unknown[]): string {
  let sql = '';
  if (scope?.ownerUserId != null) {
    values.push(scope.ownerUserId);
    sql += ` AND owner_user_id = ?`;
  }
  if (scope?.ownerTenantId != null) {
    values.push(scope.ownerTenantId);
    sql += ` AND owner_tenant_id = ?`;
  }
  return sql;
}

export const INSERT_JOB = `INSERT INTO managed_jobs (job_id, type, queue, status, priority, payload, owner_user_id, owner_tenant_id,
    triggered_by_user_id, max_attempts, idempotent, available_at, created_at, updated_at)
  VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, COALESCE(?, ${plusMs('?')}), ${NOW}, ${NOW})
  RETURNING job_id, available_at, created_at`;

export const FIND_JOB = `SELECT * FROM managed_jobs WHERE job_id = ?`;

export function listJobs(filter: ListFilter): { where: string; values: unknown[] } {
  const values: unknown[] = [];
  let where = `WHERE 1 = 1${scopeWhere({ ownerUserId: filter.ownerUserId ?? null, ownerTenantId: filter.ownerTenantId ?? null }, values)}`;
  if (filter.statuses?.length) {
    where += ` AND status IN (${filter.statuses.map(() => '?').join(', ')})`;
    values.push(...filter.statuses);
  }
  if (filter.type) {
    where += ` AND type = ?`;
    values.push(filter.type);
  }
  return { where, values };
}

/**
 * The claim: one `UPDATE … RETURNING` fed by the ordered partial index `idx_managed_jobs_claim`.
 * The hot path's times are parameters (`@now`, `@leaseUntil`) read once per transaction from the
 * host clock, which for an embedded database is the database clock: `strftime()` per row and
 * column was a tenth of a claim.
 */
export const CLAIM_JOBS = `UPDATE managed_jobs SET status = 'running', attempts = attempts + 1, fence = fence + 1,
    lease_owner = @workerId, lease_expires_at = @leaseUntil, started_at = @now, finished_at = NULL, updated_at = @now
  WHERE job_id IN (
    SELECT job_id FROM managed_jobs
    WHERE status = 'pending' AND queue = @queue AND available_at <= @now AND type IN (SELECT value FROM json_each(@types))
    ORDER BY priority DESC, job_id
    LIMIT @limit)
  RETURNING *`;

/** The ledger row of a run, written when the run ends (a run in progress is the job row itself). */
export const INSERT_ATTEMPT = `INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

export const RENEW_LEASE = `UPDATE managed_jobs SET lease_expires_at = ${plusMs('?')}
  WHERE job_id = ? AND fence = ? AND status = 'running' AND lease_owner = ?`;

/** `@now` is a parameter, as in the claim. */
export const COMPLETE_JOB = `UPDATE managed_jobs SET status = 'completed', result = @result, progress_percentage = @progress,
    progress_message = @message, failed_reason = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = @now, updated_at = @now
  WHERE job_id = @jobId AND fence = @fence AND status = 'running'
  RETURNING job_id, attempts, started_at, finished_at`;

export const FAIL_JOB = `UPDATE managed_jobs SET status = @status, failed_reason = @reason, progress_percentage = @progress,
    progress_message = @message,
    available_at = CASE WHEN @status = 'pending' THEN ${plusMs('@delayMs')} ELSE available_at END,
    finished_at = CASE WHEN @status = 'pending' THEN NULL ELSE ${NOW} END,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = @jobId AND fence = @fence AND status = 'running'
  RETURNING *`;

export const RELEASE_JOB = `UPDATE managed_jobs SET status = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL,
    lease_expires_at = NULL, available_at = ${NOW}, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

export const UPDATE_PROGRESS = `UPDATE managed_jobs SET progress_percentage = ?, progress_message = ?, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

export const SAVE_STATE = `UPDATE managed_jobs SET state = ?, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'`;

export const LOAD_STEPS = `SELECT name, result FROM managed_job_steps WHERE job_id = ?`;

export const SAVE_STEP = `INSERT INTO managed_job_steps (job_id, name, result, completed_at)
  SELECT job_id, ?, ?, ${NOW} FROM managed_jobs WHERE job_id = ? AND fence = ? AND status = 'running'
  ON CONFLICT (job_id, name) DO NOTHING`;

/** What a stop needs of the job before it changes it (was it running, and whose run). */
export function stoppableJob(where: string): string {
  return `SELECT job_id, fence, status, attempts, lease_owner, started_at FROM managed_jobs
    WHERE job_id = ? AND status IN ('pending', 'running')${where}`;
}

export const STOP_JOB = `UPDATE managed_jobs SET status = 'stopped', lease_owner = NULL, lease_expires_at = NULL,
    finished_at = ${NOW}, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status IN ('pending', 'running')
  RETURNING *`;

export function retryJob(where: string): string {
  return `UPDATE managed_jobs SET status = 'pending', attempts = 0, max_attempts = ?, progress_percentage = 0,
      progress_message = NULL, failed_reason = NULL, result = NULL, started_at = NULL, finished_at = NULL,
      available_at = ${NOW}, updated_at = ${NOW}
    WHERE job_id = ? AND status IN ('failed', 'stopped')${where}
    RETURNING *`;
}

export const EXPIRED_RUNS = `SELECT j.job_id, j.fence, j.attempts, j.lease_owner, j.started_at,
    (j.idempotent AND (SELECT count(*) FROM managed_job_attempts a WHERE a.job_id = j.job_id AND a.outcome = 'lost') < ? - 1) AS requeue
  FROM managed_jobs j WHERE j.status = 'running' AND j.lease_expires_at < ${NOW}`;

export const REQUEUE_LOST = `UPDATE managed_jobs SET status = 'pending', attempts = MAX(attempts - 1, 0), available_at = ${NOW},
    lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

export const FAIL_LOST = `UPDATE managed_jobs SET status = 'failed', failed_reason = replace(?, '{worker}', coalesce(lease_owner, '?')),
    finished_at = ${NOW}, available_at = ${NOW}, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

export const INSERT_FILE = `INSERT INTO managed_job_files (job_file_id, job_id, filename, path, mime_type, size_bytes, expires_at, created_at)
  SELECT ?, job_id, ?, ?, ?, ?, COALESCE(?, strftime('%Y-%m-%d %H:%M:%f', 'now', printf('+%d days', ?))), ${NOW}
  FROM managed_jobs WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

export const LIST_FILES = `SELECT * FROM managed_job_files WHERE job_id = ? AND deleted_at IS NULL AND expires_at > ${NOW}
  ORDER BY created_at, job_file_id`;
export const LIST_ALL_FILES = `SELECT * FROM managed_job_files WHERE job_id = ? AND deleted_at IS NULL ORDER BY created_at, job_file_id`;
export const FIND_FILE = `SELECT * FROM managed_job_files WHERE job_id = ? AND job_file_id = ? AND deleted_at IS NULL AND expires_at > ${NOW}`;
export const EXPIRED_FILES = `SELECT * FROM managed_job_files WHERE deleted_at IS NULL AND expires_at <= ${NOW} ORDER BY expires_at LIMIT ?`;
export const MARK_FILE_DELETED = `UPDATE managed_job_files SET deleted_at = ${NOW} WHERE job_file_id = ? AND deleted_at IS NULL`;
const OLDER_THAN_DAYS = `finished_at < strftime('%Y-%m-%d %H:%M:%f', 'now', printf('-%d days', ?))`;
export const PRUNABLE_JOBS = `SELECT job_id FROM managed_jobs WHERE status IN ('completed', 'failed', 'stopped')
  AND ${OLDER_THAN_DAYS} ORDER BY finished_at LIMIT ?`;
export const DELETE_ATTEMPTS = `DELETE FROM managed_job_attempts WHERE job_id = ?`;
export const FILES_OF_JOB = `SELECT * FROM managed_job_files WHERE job_id = ? AND deleted_at IS NULL`;
export const PRUNE_FINISHED = `DELETE FROM managed_jobs WHERE job_id = ? AND status IN ('completed', 'failed', 'stopped')
  AND ${OLDER_THAN_DAYS}`;

/** A stopped run's late return value, for that run only: same fence, still stopped, no result yet. */
export const KEEP_STOPPED_RESULT = `UPDATE managed_jobs SET result = ?, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'stopped' AND result IS NULL`;
