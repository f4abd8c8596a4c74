/** Reads for metrics and health checks (PostgreSQL): active rows only, through the partial indexes. */
import { NOW, type Sql } from './common.sql.js';

/**
 * Pending rows through `idx_managed_jobs_claim` (partial on pending, led by `queue`); running
 * rows are the ones holding a lease, through `idx_managed_jobs_lease`. Finished jobs, however
 * many are kept, are never read.
 */
export function queueDepth(): Sql {
  return {
    text: `SELECT queue, 'pending' AS status, count(*)::int AS count FROM managed_jobs WHERE status = 'pending' GROUP BY queue
    UNION ALL
    SELECT queue, 'running', count(*)::int FROM managed_jobs WHERE lease_expires_at IS NOT NULL AND status = 'running' GROUP BY queue`,
    values: [],
  };
}

/** Milliseconds on the database clock since the oldest due pending job of these queues became due. */
export function oldestDueAge(queues: string[]): Sql {
  return {
    text: `SELECT (EXTRACT(EPOCH FROM (${NOW} - min(available_at))) * 1000)::float8 AS age_ms
      FROM managed_jobs WHERE status = 'pending' AND queue = ANY($1::text[]) AND available_at <= ${NOW}`,
    values: [queues],
  };
}
