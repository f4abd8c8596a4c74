/** Reads for metrics and health checks (MySQL/MariaDB): active rows only, through the claim index. */
import { NOW, type Sql } from './common.sql.js';

/** `idx_managed_jobs_claim (status, queue, …)` serves both statuses; finished jobs are never read. */
const QUEUE_DEPTH = `SELECT queue, status, count(*) AS count FROM managed_jobs WHERE status IN ('pending', 'running') GROUP BY status, queue`;

export function queueDepth(): Sql {
  return { text: QUEUE_DEPTH, values: [] };
}

const OLDEST_DUE_AGE = `SELECT TIMESTAMPDIFF(MICROSECOND, min(available_at), ${NOW}) / 1000 AS age_ms
  FROM managed_jobs WHERE status = 'pending' AND JSON_CONTAINS(?, JSON_QUOTE(queue)) AND available_at <= ${NOW}`;

/** Milliseconds since the oldest due pending job of these queues became due. */
export function oldestDueAge(queues: string[]): Sql {
  return { text: OLDEST_DUE_AGE, values: [JSON.stringify(queues)] };
}
