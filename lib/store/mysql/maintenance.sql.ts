/** Pruning finished jobs (MySQL/MariaDB). */
import { NOW, placeholders, type Sql } from './common.sql.js';

const OLDER_THAN_DAYS = `finished_at < ${NOW} - INTERVAL ? DAY`;

export function prunableJobs(olderThanDays: number, limit: number): Sql {
  return {
    text: `SELECT job_id FROM managed_jobs WHERE status IN ('completed', 'failed', 'stopped') AND ${OLDER_THAN_DAYS} ORDER BY finished_at LIMIT ?`,
    values: [olderThanDays, limit],
  };
}

/** The ones of `jobIds` still finished more than `olderThanDays` ago, locked for the delete. */
export function lockPrunable(jobIds: string[], olderThanDays: number): Sql {
  return {
    text: `SELECT job_id FROM managed_jobs WHERE job_id IN (${placeholders(jobIds.length)})
      AND status IN ('completed', 'failed', 'stopped') AND ${OLDER_THAN_DAYS} FOR UPDATE`,
    values: [...jobIds, olderThanDays],
  };
}

/** The ones of `jobIds` whose status is one of `statuses`, locked for the delete (the operator's delete and clearQueue). */
export function lockDeletable(jobIds: string[], statuses: string[]): Sql {
  return {
    text: `SELECT job_id FROM managed_jobs WHERE job_id IN (${placeholders(jobIds.length)}) AND status IN (${placeholders(statuses.length)}) FOR UPDATE`,
    values: [...jobIds, ...statuses],
  };
}

/** Their files and steps cascade. */
export function deleteJobs(jobIds: string[]): Sql {
  return { text: `DELETE FROM managed_jobs WHERE job_id IN (${placeholders(jobIds.length)})`, values: jobIds };
}

/** The ledger has no foreign key (a lookup per run on the hot path): its rows go with their job here. */
export function deleteAttempts(jobIds: string[]): Sql {
  return { text: `DELETE FROM managed_job_attempts WHERE job_id IN (${placeholders(jobIds.length)})`, values: jobIds };
}

/** Job logs (\`ctx.log\`) have no foreign key either (they are written in batches, off the run): they go with their job too. */
export function deleteLogs(jobIds: string[]): Sql {
  return { text: `DELETE FROM managed_job_logs WHERE job_id IN (${placeholders(jobIds.length)})`, values: jobIds };
}
