/**
 * Members' completions in one statement (PostgreSQL): what `endMembers` in
 * lib/workflows/batch-programs.ts does in four statements, in the same order and with the same
 * locks, so that a transaction of members' completions is BEGIN, this, COMMIT (plus the release of
 * dependents and the callbacks when there are any).
 *
 * - `locked` takes the batch rows first, in batch id order (two transactions cannot deadlock on
 *   them), before any member row is touched: the completions' update reads it in a condition with
 *   no reference to the job row, which PostgreSQL evaluates once, before the update's first row.
 *   A lock taken after waiting returns the newest committed row, so `locked` holds what the
 *   previous holder committed.
 * - Whether a batch ends is decided from its locked row plus what this statement completed, as the
 *   step-by-step program decides it: only one transaction ever sees a batch's last member.
 * - `moved` updates rows `locked` holds: under READ COMMITTED the update follows them to the
 *   version that was locked.
 * - Everything else the statement reads is of its snapshot, which may be older than a lock it waited
 *   for: the dependency rows that `ctx.batch.add()` committed meanwhile would be missed. So the
 *   dependents come back only when every locked row is the version the snapshot sees (`xmin`: a
 *   program that adds members also moves the batch's `total`); else `dependent_ids` is null and
 *   the program reads them with a statement of their own.
 * One row comes back (also when nothing moved): the completed ids, the dependents of the completed
 * members of locked batches (or null), and each moved batch's row after (with `ended_now`), in
 * batch id order.
 */
import type { Completion } from '../job-store.interface.js';
import { NOW, type Sql } from './common.sql.js';
import { completeCtes, completionValues } from './run-end.sql.js';

/** The locked row says this completion is the batch's last member. */
const ENDS = `l.status = 'running' AND l.completed + c.n + l.failed + l.stopped >= l.total`;

export function endMembers(items: Array<{ jobId: string; batchId: string; completion: Completion }>, workerId: string): Sql {
  const batchIds = [...new Set(items.map((i) => i.batchId))].sort();
  return {
    text: `WITH locked AS MATERIALIZED (
        SELECT batch_id, status, total, completed, failed, stopped, xmin::text AS version FROM managed_job_batches
        WHERE batch_id = ANY($1::uuid[]) ORDER BY batch_id FOR UPDATE
      ), ${completeCtes(2, ' AND (SELECT count(*) FROM locked) >= 0')},
      counted AS MATERIALIZED (
        SELECT d.job_id, m.batch_id FROM done d JOIN unnest($2::uuid[], $8::uuid[]) AS m(job_id, batch_id) ON m.job_id = d.job_id
        WHERE m.batch_id IN (SELECT batch_id FROM locked)
      ), c AS (
        SELECT batch_id, count(*)::int AS n FROM counted GROUP BY batch_id
      ), moved AS (
        UPDATE managed_job_batches b SET completed = b.completed + c.n,
          status = CASE WHEN ${ENDS} THEN CASE WHEN l.failed > 0 THEN 'partial' ELSE 'completed' END ELSE b.status END,
          finished_at = CASE WHEN ${ENDS} THEN ${NOW} ELSE b.finished_at END, updated_at = ${NOW}
        FROM c JOIN locked l ON l.batch_id = c.batch_id
        WHERE b.batch_id = c.batch_id
        RETURNING b.*, ${ENDS} AS ended_now
      )
      SELECT (SELECT array_agg(job_id) FROM done) AS done_ids,
        CASE WHEN EXISTS (SELECT 1 FROM locked l JOIN managed_job_batches seen ON seen.batch_id = l.batch_id WHERE seen.xmin::text <> l.version)
          THEN NULL
          ELSE (SELECT COALESCE(array_agg(DISTINCT dd.job_id), '{}') FROM managed_job_dependencies dd JOIN counted ON dd.depends_on = counted.job_id)
        END AS dependent_ids,
        moved.*
      FROM (SELECT 1) AS one LEFT JOIN moved ON true
      ORDER BY moved.batch_id`,
    values: [batchIds, ...completionValues(items.map((i) => i.completion), workerId), items.map((i) => i.batchId)],
  };
}
