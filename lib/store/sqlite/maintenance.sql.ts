/** Pruning finished jobs (SQLite). */
import type { Sql } from './common.sql.js';

const OLDER_THAN_DAYS = `finished_at < strftime('%Y-%m-%d %H:%M:%f', 'now', printf('-%d days', ?))`;

const PRUNABLE_JOBS = `SELECT job_id FROM managed_jobs WHERE status IN ('completed', 'failed', 'stopped')
  AND ${OLDER_THAN_DAYS} ORDER BY finished_at LIMIT ?`;

export function prunableJobs(olderThanDays: number, limit: number): Sql {
  return { text: PRUNABLE_JOBS, values: [olderThanDays, limit] };
}

const PRUNE_FINISHED = `DELETE FROM managed_jobs WHERE job_id = ? AND status IN ('completed', 'failed', 'stopped')
  AND ${OLDER_THAN_DAYS}`;

/** One job, if it is still finished more than `olderThanDays` ago; its files and steps cascade. */
export function pruneFinished(jobId: string, olderThanDays: number): Sql {
  return { text: PRUNE_FINISHED, values: [jobId, olderThanDays] };
}

/** The ledger has no foreign key (a lookup per run on the hot path): its rows go with their job here. */
const DELETE_ATTEMPTS = `DELETE FROM managed_job_attempts WHERE job_id = ?`;

export function deleteAttempts(jobId: string): Sql {
  return { text: DELETE_ATTEMPTS, values: [jobId] };
}

/** Job logs (\`ctx.log\`) have no foreign key either (they are written in batches, off the run): they go with their job too. */
const DELETE_LOGS = `DELETE FROM managed_job_logs WHERE job_id = ?`;

export function deleteLogs(jobId: string): Sql {
  return { text: DELETE_LOGS, values: [jobId] };
}

const DELETE_JOB = `DELETE FROM managed_jobs WHERE job_id = ? AND status IN (SELECT value FROM json_each(?))`;

/** The operator's delete and clearQueue: one job, if its status is one of `statuses`. */
export function deleteJob(jobId: string, statuses: string[]): Sql {
  return { text: DELETE_JOB, values: [jobId, JSON.stringify(statuses)] };
}
