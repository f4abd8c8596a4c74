/**
 * MySQL 8 / MariaDB ≥ 10.6 statements of the store, one function per statement, each returning
 * `{ text, values }`, grouped by file as on the other dialects: `jobs`, `claim`, `run-end`,
 * `scope`, `files`, `maintenance`, `notify`, `lock`.
 *
 * Design notes:
 * - Neither server has `UPDATE … RETURNING` (MariaDB has it for INSERT and DELETE only; MySQL not
 *   at all), so a write that must return rows is a short transaction: lock or change, then read.
 *   A claim is `SELECT … FOR UPDATE SKIP LOCKED` and an `UPDATE` of those ids, in one READ
 *   COMMITTED transaction (no gap locks, so dispatches are never held up by a claim).
 * - Every time is UTC from the database clock (`UTC_TIMESTAMP(3)`, whatever the server's or the
 *   session's time zone). Where a transaction needs the same instant in several statements, it
 *   reads it once (`db_now`) and passes it as a parameter, as the SQLite hot path does.
 * - Times are read as text (`dateStrings`, parsed as UTC by the row mapper) and JSON columns as
 *   text (`JOB_COLUMNS`: the driver would parse them, and a result that is a JSON string would be
 *   parsed twice).
 * - Texts are constants or depend only on a count, so the server-side prepared statements
 *   (`execute`) are reused.
 * - Every write of a running worker matches `fence` and `status = 'running'`.
 */

export interface Sql {
  text: string;
  values: unknown[];
}

export const NOW = `UTC_TIMESTAMP(3)`;

/** `NOW` plus a parameter in milliseconds. */
export const plusMs = (param: string) => `${NOW} + INTERVAL ROUND(${param} * 1000) MICROSECOND`;

/** `?, ?, …` for `n` values. */
export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Every column of `managed_jobs`, JSON ones as text. */
export const JOB_COLUMNS = `job_id, type, queue, status, priority, CAST(payload AS CHAR) AS payload, CAST(state AS CHAR) AS state,
  CAST(result AS CHAR) AS result, progress_percentage, progress_message, owner_user_id, owner_tenant_id, triggered_by_user_id,
  attempts, max_attempts, idempotent, available_at, lease_owner, lease_expires_at, fence, failed_reason, started_at, finished_at,
  created_at, updated_at, retry_until, stoppable, trace_context, unique_key, unique_until, concurrency_key, rate_key,
  batch_id, batch_key, callback_batch_id`;

/** The database clock as UTC text. */
export const DB_NOW = `CAST(${NOW} AS CHAR) AS db_now`;

export function dbNow(): Sql {
  return { text: `SELECT ${DB_NOW}`, values: [] };
}

export function selectJob(jobId: string): Sql {
  return { text: `SELECT ${JOB_COLUMNS} FROM managed_jobs WHERE job_id = ?`, values: [jobId] };
}
