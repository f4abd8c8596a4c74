/**
 * Every statement that ends a run (PostgreSQL), each writing the run's ledger row in the same
 * statement: completion (`completed`), failure (`failureEnd`: `retrying`, `failed` or `timeout`),
 * shutdown hand-back (`released`, the try given back: the run was attempt `attempts + 1`), stop
 * (`stopped`, only for a running job) and reaping (`lost`).
 */
import type { ClaimRequest, Completion, Failure, RunRef, ScopeFilter } from '../job-store.interface.js';
import { failureEnd } from '../run-outcome.js';
import { NOW, plusMs, type Sql } from './common.sql.js';
import { claimCtes } from './claim.sql.js';
import { scopeWhere } from './scope.sql.js';

/** The columns of `managed_jobs`, in table order (claimed rows are returned with exactly these). */
const JOB_COLUMNS = [
  'job_id', 'type', 'queue', 'status', 'priority', 'payload', 'state', 'result', 'progress_percentage', 'progress_message',
  'owner_user_id', 'owner_tenant_id', 'triggered_by_user_id', 'attempts', 'max_attempts', 'idempotent', 'available_at',
  'lease_owner', 'lease_expires_at', 'fence', 'failed_reason', 'started_at', 'finished_at', 'created_at', 'updated_at',
  'retry_until', 'stoppable', 'trace_context', 'batch_id', 'batch_key', 'callback_batch_id',
];

/**
 * Completions are batched: many finished runs, one statement (job rows and their ledger rows).
 * `andWhere`: a further condition on the job rows' update (members' ends use it to lock their
 * batches first).
 */
export function completeCtes(first: number, andWhere = ''): string {
  const p = (i: number) => `$${first + i}`;
  return `done AS (
      UPDATE managed_jobs j SET status = 'completed', result = r.result, progress_percentage = r.progress,
        progress_message = r.message, failed_reason = NULL, lease_owner = NULL, lease_expires_at = NULL,
        finished_at = ${NOW}, updated_at = ${NOW}
      FROM unnest(${p(0)}::uuid[], ${p(1)}::int[], ${p(2)}::jsonb[], ${p(3)}::int[], ${p(4)}::text[]) AS r(job_id, fence, result, progress, message)
      WHERE j.job_id = r.job_id AND j.fence = r.fence AND j.status = 'running'${andWhere}
      RETURNING j.job_id, j.fence, j.attempts, j.started_at, j.finished_at
    ), ledger AS (
      INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome)
      SELECT job_id, fence, attempts, ${p(5)}, started_at, finished_at, 'completed' FROM done
    )`;
}

export function completionValues(runs: Completion[], workerId: string): unknown[] {
  return [
    runs.map((r) => r.jobId),
    runs.map((r) => r.fence),
    runs.map((r) => r.result),
    runs.map((r) => r.progress),
    runs.map((r) => r.message),
    workerId,
  ];
}

/** Rows `{ job_id, finished_at }` of the runs that were still theirs to complete. */
export function completeJobs(runs: Completion[], workerId: string): Sql {
  return { text: `WITH ${completeCtes(1)} SELECT job_id, finished_at FROM done`, values: completionValues(runs, workerId) };
}

/**
 * The busy worker's round trip: complete the runs that finished and claim the next jobs, in one
 * statement and one commit. The claim does not see the completions (one snapshot), and needs not
 * to: they touch running rows, the claim pending ones. Claimed rows come back whole; completed
 * runs as `done_job_id` / `done_finished_at` with every job column null.
 */
export function completeAndClaim(runs: Completion[], c: ClaimRequest): Sql {
  const columns = JOB_COLUMNS.join(', ');
  const nulls = JOB_COLUMNS.map(() => 'NULL').join(', ');
  return {
    text: `WITH ${completeCtes(1)}, ${claimCtes('$7', '$8', '$6', '$9', '$10')}
    SELECT ${columns}, NULL::uuid AS done_job_id, NULL::timestamp AS done_finished_at FROM claimed
    UNION ALL SELECT ${nulls}, job_id, finished_at FROM done`,
    values: [...completionValues(runs, c.workerId), c.queue, c.limit, c.leaseMs, c.types],
  };
}

export function failJob(run: Failure, workerId: string): Sql {
  const end = failureEnd(run);
  return {
    text: `WITH f AS (
      UPDATE managed_jobs SET status = $3::text, failed_reason = $4::text, progress_percentage = $6, progress_message = $7,
        available_at = CASE WHEN $3::text = 'pending' THEN ${plusMs('$5')} ELSE available_at END,
        finished_at = CASE WHEN $3::text = 'pending' THEN NULL ELSE ${NOW} END,
        lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
      WHERE job_id = $1 AND fence = $2 AND status = 'running'
      RETURNING *
    ), ledger AS (
      INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome, error)
      SELECT job_id, fence, attempts, $9, started_at, ${NOW}, $8, $10::text FROM f
    )
    SELECT * FROM f`,
    values: [
      run.jobId,
      run.fence,
      end.status,
      run.reason,
      end.delayMs,
      run.progress,
      run.message,
      end.outcome,
      workerId,
      run.error,
    ],
  };
}

/** Shutdown hand-back and `ctx.release()`: the run does not count as a try; due again in `delayMs`. */
export function releaseJobs(runs: RunRef[], workerId: string, channel: string, wakePayload: string, delayMs = 0): Sql {
  return {
    text: `WITH rel AS (
      UPDATE managed_jobs j SET status = 'pending', attempts = GREATEST(j.attempts - 1, 0), lease_owner = NULL,
        lease_expires_at = NULL, available_at = ${plusMs('$6')}, updated_at = ${NOW}
      FROM unnest($1::uuid[], $2::int[]) AS r(job_id, fence)
      WHERE j.job_id = r.job_id AND j.fence = r.fence AND j.status = 'running'
      RETURNING j.*
    ), ledger AS (
      INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome)
      SELECT job_id, fence, attempts + 1, $4, started_at, ${NOW}, 'released' FROM rel
    ), wake AS (SELECT pg_notify($3, $5))
    SELECT rel.* FROM rel CROSS JOIN wake`,
    values: [runs.map((r) => r.jobId), runs.map((r) => r.fence), channel, workerId, wakePayload, delayMs],
  };
}

/**
 * A job stops only while stoppable: not declared `stoppable: false`, and not running a run that
 * called `ctx.disableStop()` (that run's fence in `stop_disabled_fence`; a later run has another).
 * `FOR UPDATE` re-checks it on the newest row version, so a stop and a concurrent `disableStop`
 * cannot both succeed.
 */
const STOP_ALLOWED = `stoppable AND (status <> 'running' OR stop_disabled_fence IS NULL OR stop_disabled_fence <> fence)`;

/** `wakePrefix || job_id` is the wake-up asking the run's worker to stop (see `wake-message.ts`). */
export function stopJob(jobId: string, scope: ScopeFilter | undefined, channel: string, wakePrefix: string): Sql {
  const values: unknown[] = [jobId, channel, wakePrefix];
  const where = scopeWhere(scope, values);
  return {
    text: `WITH old AS (
      SELECT job_id, fence, status, attempts, lease_owner, started_at FROM managed_jobs
      WHERE job_id = $1 AND status IN ('pending', 'running') AND ${STOP_ALLOWED}${where}
      FOR UPDATE
    ), s AS (
      UPDATE managed_jobs j SET status = 'stopped', lease_owner = NULL, lease_expires_at = NULL,
        finished_at = ${NOW}, updated_at = ${NOW}
      FROM old WHERE j.job_id = old.job_id AND j.status IN ('pending', 'running')
      RETURNING j.*
    ), ledger AS (
      INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome)
      SELECT old.job_id, old.fence, old.attempts, coalesce(old.lease_owner, '?'), old.started_at, s.finished_at, 'stopped'
      FROM old JOIN s ON s.job_id = old.job_id WHERE old.status = 'running'
    ), wake AS (SELECT pg_notify($2, $3::text || s.job_id::text) FROM s)
    SELECT s.* FROM s LEFT JOIN wake ON true`,
    values,
  };
}

/**
 * Runs whose lease ran out belong to a dead (or frozen) worker. Idempotent ones go back to the
 * queue without using up a try, unless they have already been lost `$1` times (a job that kills
 * its worker must not loop forever); the rest fail with the reason `$2`.
 */
export function reapExpired(maxLostRuns: number, lostReason: string): Sql {
  return {
    text: `WITH dead AS (
      SELECT j.job_id, j.fence, j.attempts, j.lease_owner, j.started_at,
        (j.idempotent AND (SELECT count(*) FROM managed_job_attempts a WHERE a.job_id = j.job_id AND a.outcome = 'lost') < $1 - 1) AS requeue
      FROM managed_jobs j
      WHERE j.status = 'running' AND j.lease_expires_at < ${NOW}
      FOR UPDATE SKIP LOCKED
    ), r AS (
      UPDATE managed_jobs j SET
        status = CASE WHEN dead.requeue THEN 'pending' ELSE 'failed' END,
        attempts = CASE WHEN dead.requeue THEN GREATEST(j.attempts - 1, 0) ELSE j.attempts END,
        failed_reason = CASE WHEN dead.requeue THEN j.failed_reason ELSE $2 END,
        finished_at = CASE WHEN dead.requeue THEN NULL ELSE ${NOW} END,
        available_at = ${NOW}, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
      FROM dead WHERE j.job_id = dead.job_id AND j.fence = dead.fence
      RETURNING j.*
    ), ledger AS (
      INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome)
      SELECT dead.job_id, dead.fence, dead.attempts, coalesce(dead.lease_owner, '?'), dead.started_at, ${NOW}, 'lost'
      FROM dead JOIN r ON r.job_id = dead.job_id
    )
    SELECT * FROM r`,
    values: [maxLostRuns, lostReason],
  };
}
