/** Reads for metrics and health checks (SQLite): active rows only, through the partial indexes. */
import { NOW, type Sql } from './common.sql.js';

/**
 * Pending rows through `idx_managed_jobs_claim` (partial on pending, led by `queue`); running
 * rows are the ones holding a lease, through `idx_managed_jobs_lease`. Finished jobs are never read.
 */
const QUEUE_DEPTH = `SELECT queue, 'pending' AS status, count(*) AS count FROM managed_jobs WHERE status = 'pending' GROUP BY queue
  UNION ALL
  SELECT queue, 'running', count(*) FROM managed_jobs WHERE lease_expires_at IS NOT NULL AND status = 'running' GROUP BY queue`;

export function queueDepth(): Sql {
  return { text: QUEUE_DEPTH, values: [] };
}

const OLDEST_DUE_AGE = `SELECT (julianday(${NOW}) - julianday(min(available_at))) * 86400000.0 AS age_ms
  FROM managed_jobs WHERE status = 'pending' AND queue IN (SELECT value FROM json_each(?)) AND available_at <= ${NOW}`;

/** Milliseconds since the oldest due pending job of these queues became due. */
export function oldestDueAge(queues: string[]): Sql {
  return { text: OLDEST_DUE_AGE, values: [JSON.stringify(queues)] };
}
