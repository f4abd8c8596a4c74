/** Inserting and reading jobs, and the writes of a run that do not end it (MySQL/MariaDB). */
import type { NewJob, RunRef, ScopeFilter } from '../job-store.interface.js';
import { utcText } from '../row-mapper.js';
import { JOB_COLUMNS, NOW, type Sql } from './common.sql.js';
import { scopeWhere } from './scope.sql.js';

/**
 * Any number of jobs in one statement of one text: the rows travel as one JSON array, unpacked
 * by `JSON_TABLE` (payloads as JSON strings inside it, so they arrive as the text given). Null
 * fields are left out of the array (a missing path is SQL NULL). `now`: the database clock read
 * just before, as UTC text; it is `created_at`, and `available_at` is computed from it, so the
 * records can be built without reading the rows back (no `INSERT … RETURNING` on MySQL).
 */
const INSERT_JOBS = `INSERT INTO managed_jobs (job_id, type, queue, status, priority, payload, owner_user_id, owner_tenant_id,
    triggered_by_user_id, max_attempts, idempotent, available_at, created_at, updated_at, retry_until, stoppable)
  SELECT j.job_id, j.type, j.queue, 'pending', j.priority, j.payload, j.owner, j.tenant, j.triggered, j.max_attempts,
    j.idempotent, j.available_at, ?, ?, j.retry_until, j.stoppable
  FROM JSON_TABLE(?, '$[*]' COLUMNS (job_id VARCHAR(36) PATH '$.i', type VARCHAR(255) PATH '$.t', queue VARCHAR(255) PATH '$.q',
    priority INT PATH '$.p', payload LONGTEXT PATH '$.d', owner VARCHAR(255) PATH '$.o', tenant VARCHAR(255) PATH '$.n',
    triggered VARCHAR(255) PATH '$.r', max_attempts INT PATH '$.m', idempotent INT PATH '$.e', available_at VARCHAR(23) PATH '$.a',
    retry_until VARCHAR(23) PATH '$.u', stoppable INT PATH '$.s')) j`;

/** When each job becomes due, from the database clock `now` (UTC text). */
export function availableAt(j: NewJob, now: string): string {
  return utcText(j.availableAt ?? new Date(Date.parse(`${now.replace(' ', 'T')}Z`) + j.delayMs));
}

export function insertJobs(jobs: NewJob[], now: string): Sql {
  const rows = jobs.map((j) => ({
    i: j.jobId,
    t: j.type,
    q: j.queue,
    p: j.priority,
    d: j.payload,
    o: j.ownerUserId ?? undefined,
    n: j.ownerTenantId ?? undefined,
    r: j.triggeredByUserId ?? undefined,
    m: j.maxAttempts,
    e: j.idempotent ? 1 : 0,
    a: availableAt(j, now),
    u: j.retryUntil ? utcText(j.retryUntil) : undefined,
    s: j.stoppable ? 1 : 0,
  }));
  return { text: INSERT_JOBS, values: [now, now, JSON.stringify(rows)] };
}

/** `ctx.disableStop()`: marks the run (fenced), so that `stop()` refuses the job while it runs. */
export function disableStop(run: RunRef): Sql {
  return {
    text: `UPDATE managed_jobs SET stop_disabled_fence = fence WHERE job_id = ? AND fence = ? AND status = 'running'`,
    values: [run.jobId, run.fence],
  };
}

export function findJob(jobId: string, scope?: ScopeFilter): Sql {
  const values: unknown[] = [jobId];
  return { text: `SELECT ${JOB_COLUMNS} FROM managed_jobs WHERE job_id = ?${scopeWhere(scope, values)}`, values };
}

const UPDATE_PROGRESS = `UPDATE managed_jobs SET progress_percentage = ?, progress_message = ?, updated_at = ${NOW}
  WHERE job_id = ? AND fence = ? AND status = 'running'`;

export function updateProgress(run: RunRef, percent: number, message: string | null): Sql {
  return { text: UPDATE_PROGRESS, values: [percent, message, run.jobId, run.fence] };
}

const SAVE_STATE = `UPDATE managed_jobs SET state = ?, updated_at = ${NOW} WHERE job_id = ? AND fence = ? AND status = 'running'`;

export function saveState(run: RunRef, state: string): Sql {
  return { text: SAVE_STATE, values: [state, run.jobId, run.fence] };
}

const LOAD_STEPS = `SELECT name, CAST(result AS CHAR) AS result FROM managed_job_steps WHERE job_id = ?`;

export function loadSteps(jobId: string): Sql {
  return { text: LOAD_STEPS, values: [jobId] };
}

/**
 * Recorded only while the run still owns the job, so a zombie cannot record a step; a step
 * already recorded is left alone (a race between two saves ends in a duplicate key, read as "not
 * recorded" by the store).
 */
const SAVE_STEP = `INSERT INTO managed_job_steps (job_id, name, result, completed_at)
  SELECT job_id, ?, ?, ${NOW} FROM managed_jobs WHERE job_id = ? AND fence = ? AND status = 'running'
    AND NOT EXISTS (SELECT 1 FROM managed_job_steps s WHERE s.job_id = ? AND s.name = ?)`;

export function saveStep(run: RunRef, name: string, result: string | null): Sql {
  return { text: SAVE_STEP, values: [name, result, run.jobId, run.fence, run.jobId, name] };
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
    WHERE job_id = ? AND status IN ('failed', 'stopped')${where}`,
    values,
  };
}
