/** Pruning finished jobs (PostgreSQL). */
import { NOW, type Sql } from './common.sql.js';

export function prunableJobs(olderThanDays: number, limit: number): Sql {
  return {
    text: `SELECT job_id FROM managed_jobs WHERE status IN ('completed', 'failed', 'stopped')
      AND finished_at < ${NOW} - make_interval(days => $1::int) ORDER BY finished_at LIMIT $2`,
    values: [olderThanDays, limit],
  };
}

/**
 * The ledger has no foreign key (it would cost a lookup per run on the hot path), nor have job logs
 * (written in batches, off the run): their rows go with their job here.
 */
export function pruneFinished(jobIds: string[], olderThanDays: number): Sql {
  return {
    text: `WITH del AS (
      DELETE FROM managed_jobs WHERE job_id = ANY($1::uuid[]) AND status IN ('completed', 'failed', 'stopped')
        AND finished_at < ${NOW} - make_interval(days => $2::int)
      RETURNING job_id
    ), ledger AS (DELETE FROM managed_job_attempts a USING del WHERE a.job_id = del.job_id),
    logs AS (DELETE FROM managed_job_logs l USING del WHERE l.job_id = del.job_id)
    SELECT count(*)::int AS pruned FROM del`,
    values: [jobIds, olderThanDays],
  };
}

/** The operator's delete and clearQueue: these jobs if their status is one of `statuses`, with their ledger. */
export function deleteJobs(jobIds: string[], statuses: string[]): Sql {
  return {
    text: `WITH del AS (
      DELETE FROM managed_jobs WHERE job_id = ANY($1::uuid[]) AND status = ANY($2::text[]) RETURNING job_id
    ), ledger AS (DELETE FROM managed_job_attempts a USING del WHERE a.job_id = del.job_id)
    SELECT count(*)::int AS deleted FROM del`,
    values: [jobIds, statuses],
  };
}
