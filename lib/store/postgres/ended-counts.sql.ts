/**
 * The job counts behind `stats()` (PostgreSQL), exact at every moment without a full count.
 *
 * Ended jobs (completed, failed, stopped) are most of a kept table and are only ever added to, by
 * the statements that end a run, at `finished_at = now()`. So `managed_job_ended_counts` holds
 * how many ended jobs of each queue, type and status finished before the watermark
 * (`managed_job_ended_mark`), and a count is that plus the ended jobs with `finished_at >=
 * watermark`, read live through `idx_managed_jobs_finished`. Two things keep it exact:
 *
 * - The watermark only moves to a time before which no transaction still open can write a
 *   `finished_at`: the start of the oldest open transaction of a client (their `now()`), less one
 *   second (the moment between a transaction reading the clock and showing in
 *   `pg_stat_activity`). It does not move while a session of the database hides its start
 *   (another role, without `pg_read_all_stats`): counts stay exact, the live part just grows.
 * - The statements that take a job out of an ended status below the watermark (retry, delete,
 *   prune, a workflow member revived) take the mark row first and correct the counts in their
 *   own transaction (`shiftEnded` before and after, whatever the statement does). The job hot
 *   path (dispatch, claim, end of a run) reads and writes neither table: nothing per job.
 *
 * Jobs deleted behind the library's back (your own `DELETE FROM managed_jobs`) leave the counts
 * high: empty `managed_job_ended_counts` and set the watermark back to 1970, and the next
 * `stats()` counts every ended job again.
 *
 * Measured (test/operator/operator-latency.bench.ts, 1,000,000 jobs, a 2-core machine shared with
 * other builds, p50/p95): stats() 422/870 ms before (a count of the ended rows: the planner
 * seq-scanned them), 33/46 ms now with the live jobs the newest (BENCH_LAYOUT=recent), 87/121 ms
 * with 20,000 pending and 10,000 running jobs spread over every page (the count of the live ones,
 * one heap page each, is what is left). The first stats() on a filled table counts the ended jobs
 * once: 960 ms. Rejected: counting the ended rows at all (an index-only count of 950,000 entries is
 * still 950,000 entries, whatever the scan), a counter row per job end (a write per job on the hot
 * path, contended), a trigger (a check per updated row on the hot path).
 */
import type { Sql } from './common.sql.js';

const ENDED = `status IN ('completed', 'failed', 'stopped')`;
const MARK = `managed_job_ended_mark`;

const W = `to_char(watermark, 'YYYY-MM-DD HH24:MI:SS.MS')`;

/** Serialises every change of the counts: the refresh and each correction hold the mark row to commit. */
export function lockEndedMark(): Sql {
  return { text: `SELECT ${W} AS w FROM ${MARK} WHERE id = 1 FOR UPDATE`, values: [] };
}

/** The refresh's lock: no row while a correction or another refresh holds it (then `stats()` reads without moving it). */
export function tryLockEndedMark(): Sql {
  return { text: `SELECT ${W} AS w FROM ${MARK} WHERE id = 1 FOR UPDATE SKIP LOCKED`, values: [] };
}

/** The watermark, unlocked. */
export function endedMark(): Sql {
  return { text: `SELECT ${W} AS w FROM ${MARK} WHERE id = 1`, values: [] };
}

/**
 * Where the watermark may move now (`c`, UTC text), or null. Read in a statement of its own,
 * before the counting one: a transaction that commits in between is then either listed here or
 * seen by the count.
 */
export function safeWatermark(): Sql {
  return {
    text: `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE query = '<insufficient privilege>' AND coalesce(backend_type, 'client backend') = 'client backend')
      THEN NULL ELSE to_char(date_trunc('milliseconds', least(timezone('UTC', now()), (SELECT min(timezone('UTC', xact_start)) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend')) - interval '1 second'), 'YYYY-MM-DD HH24:MI:SS.MS')
      END AS c`,
    values: [],
  };
}

/** Adds the ended jobs that finished in [w, c) to the counts and moves the watermark to c. */
export function addEnded(w: string, c: string): Sql {
  return {
    text: `WITH g AS (
      SELECT queue, type, status, count(*) AS n FROM managed_jobs
      WHERE finished_at >= $1::timestamp AND finished_at < $2::timestamp AND ${ENDED} GROUP BY queue, type, status
    ), up AS (
      INSERT INTO managed_job_ended_counts (queue, type, status, n) SELECT queue, type, status, n FROM g
      ON CONFLICT (queue, type, status) DO UPDATE SET n = managed_job_ended_counts.n + excluded.n
    )
    UPDATE ${MARK} SET watermark = $2::timestamp WHERE id = 1`,
    values: [w, c],
  };
}

/**
 * `sign` × the ended jobs among `jobIds` below the watermark, added to the counts: -1 before a
 * statement that may take them out of an ended status, +1 after it (those still there).
 */
export function shiftEnded(jobIds: string[], sign: 1 | -1): Sql {
  return {
    text: `INSERT INTO managed_job_ended_counts (queue, type, status, n)
      SELECT queue, type, status, $2::int * count(*) FROM managed_jobs
      WHERE job_id = ANY($1::uuid[]) AND ${ENDED} AND finished_at < (SELECT watermark FROM ${MARK} WHERE id = 1)
      GROUP BY queue, type, status
      ON CONFLICT (queue, type, status) DO UPDATE SET n = managed_job_ended_counts.n + excluded.n`,
    values: [jobIds, sign],
  };
}

/**
 * `queue, status, n` for every pair present (of one job type when `type` is given), in one
 * snapshot, and `w`, the watermark of the counts read: equal to the `w` given (the mark row held,
 * or read just before; when it moved in between, read again). Pending rows
 * through the claim index, running ones through the lease index (a running job always holds a
 * lease), waiting workflow members through the batch index, ended ones from the counts plus those
 * finished since `w` (`idx_managed_jobs_finished`).
 */
export function jobCounts(w: string, type?: string): Sql {
  const only = type === undefined ? '' : ` AND type = $2`;
  return {
    text: `SELECT queue, status, sum(n)::bigint AS n, (SELECT ${W} FROM ${MARK} WHERE id = 1) AS w FROM (
        SELECT queue, status, n FROM managed_job_ended_counts WHERE true${only}
        UNION ALL SELECT queue, status, count(*) FROM managed_jobs WHERE finished_at >= $1::timestamp AND ${ENDED}${only} GROUP BY queue, status
        UNION ALL SELECT queue, 'pending', count(*) FROM managed_jobs WHERE status = 'pending'${only} GROUP BY queue
        UNION ALL SELECT queue, 'running', count(*) FROM managed_jobs WHERE lease_expires_at IS NOT NULL AND status = 'running'${only} GROUP BY queue
        UNION ALL SELECT queue, 'waiting', count(*) FROM managed_jobs WHERE batch_id IS NOT NULL AND status = 'waiting'${only} GROUP BY queue
      ) t GROUP BY queue, status HAVING sum(n) <> 0`,
    values: type === undefined ? [w] : [w, type],
  };
}
