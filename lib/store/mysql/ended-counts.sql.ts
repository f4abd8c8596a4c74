/**
 * The job counts behind `stats()` (MySQL/MariaDB): ended jobs counted once into
 * `managed_job_ended_counts` up to a watermark, and live past it through `idx_managed_jobs_finished`;
 * see the PostgreSQL file for the whole argument. Here a statement reads the clock when it starts
 * (`UTC_TIMESTAMP(3)`), so the watermark moves to the start of the oldest open InnoDB transaction
 * (`information_schema.INNODB_TRX`, which needs the PROCESS privilege; without it the watermark
 * stays where it is: counts stay exact, the live part grows), less five seconds (`ENDED_MARGIN_S`),
 * and only from a fresh list (see `safeWatermark`); it is tried when the watermark lags by more than seven seconds,
 * at most twice a second per process. The counting runs READ COMMITTED after the mark row is
 * locked, so it sees every correction committed before.
 *
 * Measured (test/operator/operator-latency.bench.ts, MariaDB, 1,000,000 jobs, a 2-core machine
 * shared with other builds, p50/p95): stats() 1,267/2,870 ms before (a count through the claim
 * index), 20/30 ms now with the live jobs the newest (BENCH_LAYOUT=recent), 15/21 ms with them
 * spread over the table. First stats() on a filled table: 2.9 to 3.5 s, once.
 */
import { NOW, placeholders, type Sql } from './common.sql.js';

const ENDED = `status IN ('completed', 'failed', 'stopped')`;
const WATERMARK = `(SELECT watermark FROM managed_job_ended_mark WHERE id = 1)`;

/**
 * How far behind the oldest open transaction the watermark stays: the stores read the clock
 * (`dbNow`) one statement before the first write of some transactions, and a transaction is listed
 * only from its first InnoDB access; five seconds covers that gap even across a stalled event loop.
 */
export const ENDED_MARGIN_S = 5;

/** Seconds the watermark may lag (beyond the margin) before `stats()` tries to move it. */
export const ENDED_REFRESH_S = ENDED_MARGIN_S + 2;

/**
 * Serialises every change of the counts: the refresh and each correction hold the mark row to
 * commit. `stale` when the watermark lags by more than `ENDED_REFRESH_S`.
 */
export function lockEndedMark(): Sql {
  return {
    text: `SELECT CAST(watermark AS CHAR) AS w, watermark < ${NOW} - INTERVAL ${ENDED_REFRESH_S} SECOND AS stale
      FROM managed_job_ended_mark WHERE id = 1 FOR UPDATE`,
    values: [],
  };
}

/** The refresh's lock: no row while a correction or another refresh holds it (then `stats()` reads without moving it). */
export function tryLockEndedMark(): Sql {
  return {
    text: `SELECT CAST(watermark AS CHAR) AS w, watermark < ${NOW} - INTERVAL ${ENDED_REFRESH_S} SECOND AS stale
      FROM managed_job_ended_mark WHERE id = 1 FOR UPDATE SKIP LOCKED`,
    values: [],
  };
}

/** The watermark, unlocked. */
export function endedMark(): Sql {
  return { text: `SELECT CAST(watermark AS CHAR) AS w FROM managed_job_ended_mark WHERE id = 1`, values: [] };
}

/**
 * Where the watermark may move now (`c`, UTC text): the start of the oldest other open
 * transaction (server time zone, whole seconds: so by its age, rounded to the safe side), less
 * `ENDED_MARGIN_S`. `mine` says whether this transaction is in the list: INNODB_TRX is a cache, refreshed
 * only when nobody read it for 0.1 s, and only a list made after this transaction began (it holds
 * the mark row already) names every transaction that could still write a `finished_at` below `c`.
 */
export function safeWatermark(): Sql {
  return {
    text: `SELECT CAST(${NOW} - INTERVAL ${ENDED_MARGIN_S} SECOND - INTERVAL GREATEST(0, COALESCE(TIMESTAMPDIFF(MICROSECOND,
        min(CASE WHEN trx_mysql_thread_id <> CONNECTION_ID() THEN trx_started END), NOW(6)), 0)) MICROSECOND AS CHAR) AS c,
        COALESCE(sum(trx_mysql_thread_id = CONNECTION_ID()), 0) AS mine
      FROM information_schema.INNODB_TRX`,
    values: [],
  };
}

/** `queue, type, status, n` of the ended jobs that finished in [w, c). */
export function endedBetween(w: string, c: string): Sql {
  return {
    text: `SELECT queue, type, status, count(*) AS n FROM managed_jobs
      WHERE finished_at >= CAST(? AS DATETIME(3)) AND finished_at < CAST(? AS DATETIME(3)) AND ${ENDED} GROUP BY queue, type, status`,
    values: [w, c],
  };
}

/** Adds these counts (a text that depends only on how many). */
export function addCounts(rows: Array<{ queue: string; type: string; status: string; n: number }>): Sql {
  return {
    text: `INSERT INTO managed_job_ended_counts (queue, type, status, n) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}
      ON DUPLICATE KEY UPDATE n = n + VALUES(n)`,
    values: rows.flatMap((r) => [r.queue, r.type, r.status, r.n]),
  };
}

export function moveEndedMark(c: string): Sql {
  return { text: `UPDATE managed_job_ended_mark SET watermark = CAST(? AS DATETIME(3)) WHERE id = 1`, values: [c] };
}

/**
 * `sign` × the ended jobs among `jobIds` below the watermark, added to the counts (-1 before a
 * write that may take them out, +1 after). Under REPEATABLE READ, `INSERT … SELECT` reads the
 * newest rows (shared locks), under READ COMMITTED a fresh snapshot: either way, after the mark
 * row was locked, every earlier correction is seen.
 */
export function shiftEnded(jobIds: string[], sign: 1 | -1): Sql {
  return {
    text: `INSERT INTO managed_job_ended_counts (queue, type, status, n)
      SELECT queue, type, status, ${sign} * count(*) FROM managed_jobs
      WHERE job_id IN (${placeholders(jobIds.length)}) AND ${ENDED} AND finished_at < ${WATERMARK}
      GROUP BY queue, type, status
      ON DUPLICATE KEY UPDATE n = n + VALUES(n)`,
    values: jobIds,
  };
}

/**
 * `queue, status, n` for every pair present (of one job type when `type` is given), in one
 * statement, and `w`, the watermark of the counts read: equal to the `w` given (the mark row held,
 * or read just before; when it moved in between, read again).
 */
export function jobCounts(w: string, type?: string): Sql {
  const only = type === undefined ? '' : ` AND type = ?`;
  const t = type === undefined ? [] : [type];
  return {
    text: `SELECT queue, status, CAST(sum(n) AS SIGNED) AS n, (SELECT CAST(watermark AS CHAR) FROM managed_job_ended_mark WHERE id = 1) AS w FROM (
        SELECT queue, status, n FROM managed_job_ended_counts WHERE true${only}
        UNION ALL SELECT queue, status, count(*) FROM managed_jobs WHERE finished_at >= CAST(? AS DATETIME(3)) AND ${ENDED}${only} GROUP BY queue, status
        UNION ALL SELECT queue, status, count(*) FROM managed_jobs WHERE status IN ('pending', 'running', 'waiting')${only} GROUP BY status, queue
      ) t GROUP BY queue, status HAVING sum(n) <> 0`,
    values: [...t, w, ...t, ...t],
  };
}
