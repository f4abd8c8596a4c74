/**
 * The job counts behind `stats()` (SQLite): ended jobs counted once into
 * `managed_job_ended_counts` up to a watermark, and live past it; see the PostgreSQL file for the
 * whole argument. Here the watermark moves inside an immediate transaction (the write lock): no
 * other writer is open, so no `finished_at` below it can still be written; it stays a second
 * behind the clock all the same, and moves at most every few seconds (one short write, not one
 * per `stats()`). Corrections (retry, delete, prune, revive) run in the write's own transaction.
 *
 * Measured (test/operator/operator-latency.bench.ts, 1,000,000 jobs, a 2-core machine shared with
 * other builds, p50/p95): stats() 129/185 ms before (a count of the ended rows through
 * idx_managed_jobs_ended), 9/11 ms now with the live jobs the newest (BENCH_LAYOUT=recent), 25/33 ms
 * with 30,000 live jobs spread over the table. First stats() on a filled table: 1.3 to 1.8 s, once.
 */
import type { Sql } from './common.sql.js';

const ENDED = `status IN ('completed', 'failed', 'stopped')`;
const WATERMARK = `(SELECT watermark FROM managed_job_ended_mark WHERE id = 1)`;

/** Seconds the watermark may lag before `stats()` moves it. */
export const ENDED_REFRESH_S = 2;

const STALE = `SELECT strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 seconds') AS c FROM managed_job_ended_mark
  WHERE id = 1 AND watermark < strftime('%Y-%m-%d %H:%M:%f', 'now', '-${ENDED_REFRESH_S} seconds')`;

/** Where the watermark moves (`c`, a second ago), when it lags by more than `ENDED_REFRESH_S`; else no row. */
export function endedStale(): Sql {
  return { text: STALE, values: [] };
}

const ADD_ENDED = `INSERT INTO managed_job_ended_counts (queue, type, status, n)
  SELECT queue, type, status, count(*) FROM managed_jobs INDEXED BY idx_managed_jobs_finished
  WHERE finished_at >= ${WATERMARK} AND finished_at < ? AND ${ENDED} GROUP BY queue, type, status
  ON CONFLICT (queue, type, status) DO UPDATE SET n = n + excluded.n`;
const MOVE_MARK = `UPDATE managed_job_ended_mark SET watermark = ? WHERE id = 1 AND watermark < ?`;

/** Adds the ended jobs finished between the watermark and `c`. */
export function addEnded(c: string): Sql {
  return { text: ADD_ENDED, values: [c] };
}

/** Then moves the watermark to `c` (in the same transaction). */
export function moveEndedMark(c: string): Sql {
  return { text: MOVE_MARK, values: [c, c] };
}

const SHIFT = (sign: 1 | -1) => `INSERT INTO managed_job_ended_counts (queue, type, status, n)
  SELECT queue, type, status, ${sign} * count(*) FROM managed_jobs
  WHERE job_id IN (SELECT value FROM json_each(?)) AND ${ENDED} AND finished_at < ${WATERMARK}
  GROUP BY queue, type, status
  ON CONFLICT (queue, type, status) DO UPDATE SET n = n + excluded.n`;
const SHIFT_DOWN = SHIFT(-1);
const SHIFT_UP = SHIFT(1);

/** `sign` × the ended jobs among `jobIds` below the watermark, added to the counts (-1 before a write that may take them out, +1 after). */
export function shiftEnded(jobIds: string[], sign: 1 | -1): Sql {
  return { text: sign < 0 ? SHIFT_DOWN : SHIFT_UP, values: [JSON.stringify(jobIds)] };
}

const JOB_COUNTS = (only: string) => `SELECT queue, status, sum(n) AS n FROM (
    SELECT queue, status, n FROM managed_job_ended_counts WHERE true${only}
    UNION ALL SELECT queue, status, count(*) FROM managed_jobs INDEXED BY idx_managed_jobs_finished
      WHERE finished_at >= ${WATERMARK} AND ${ENDED}${only} GROUP BY queue, status
    UNION ALL SELECT queue, 'pending', count(*) FROM managed_jobs WHERE status = 'pending'${only} GROUP BY queue
    UNION ALL SELECT queue, 'running', count(*) FROM managed_jobs WHERE lease_expires_at IS NOT NULL AND status = 'running'${only} GROUP BY queue
    UNION ALL SELECT queue, 'waiting', count(*) FROM managed_jobs WHERE batch_id IS NOT NULL AND status = 'waiting'${only} GROUP BY queue
  ) GROUP BY queue, status HAVING sum(n) <> 0`;
const ALL_COUNTS = JOB_COUNTS('');
const TYPE_COUNTS = JOB_COUNTS(' AND type = @type');

/** `queue, status, n` for every pair present (of one job type when `type` is given), in one statement (one snapshot). */
export function jobCounts(type?: string): Sql {
  return type === undefined ? { text: ALL_COUNTS, values: [] } : { text: TYPE_COUNTS, values: [{ type }] };
}
