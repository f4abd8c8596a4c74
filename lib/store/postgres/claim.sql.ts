/** Claiming jobs and renewing the leases of runs (PostgreSQL): the hot path. */
import type { ClaimRequest, RunRef } from '../job-store.interface.js';
import { NOW, plusMs, type Sql } from './common.sql.js';

/**
 * The hot path. `SKIP LOCKED` lets any number of workers claim side by side; the partial index
 * `idx_managed_jobs_claim (queue, priority DESC, job_id) WHERE status = 'pending'` serves both
 * the filter and the order, so a claim reads only the rows it takes.
 */
export function claimJobs(c: ClaimRequest): Sql {
  return {
    text: `WITH ${claimCtes('$1', '$2', '$3', '$4', '$5')}
    SELECT * FROM claimed ORDER BY priority DESC, job_id`,
    values: [c.queue, c.limit, c.workerId, c.leaseMs, c.types],
  };
}

/** The CTEs `next` and `claimed` of a claim, with the placeholders of its parameters. */
export function claimCtes(queue: string, limit: string, workerId: string, leaseMs: string, types: string): string {
  return `next AS (
      SELECT job_id FROM managed_jobs
      WHERE status = 'pending' AND queue = ${queue} AND available_at <= ${NOW} AND type = ANY(${types}::text[])
        AND ${notPaused(queue)}
      ORDER BY priority DESC, job_id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE managed_jobs j SET status = 'running', attempts = j.attempts + 1, fence = j.fence + 1,
        lease_owner = ${workerId}, lease_expires_at = ${plusMs(leaseMs)}, started_at = ${NOW}, finished_at = NULL, updated_at = ${NOW}
      FROM next WHERE j.job_id = next.job_id
      RETURNING j.*
    )`;
}

/**
 * A paused queue (`managed_job_queues`, see the operator) is claimed from by no one. The condition
 * does not depend on the row, so PostgreSQL runs it once per statement, as a one-time filter
 * (an InitPlan: one primary-key probe), and skips the index scan entirely while paused.
 */
export const notPaused = (queue: string) => `NOT EXISTS (SELECT 1 FROM managed_job_queues WHERE queue = ${queue} AND paused)`;

/** One statement per heartbeat for all of a worker's runs. */
export function renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Sql {
  return {
    text: `UPDATE managed_jobs j SET lease_expires_at = ${plusMs('$4')}
      FROM unnest($1::uuid[], $2::int[]) AS r(job_id, fence)
      WHERE j.job_id = r.job_id AND j.fence = r.fence AND j.status = 'running' AND j.lease_owner = $3
      RETURNING j.job_id, j.fence`,
    values: [runs.map((r) => r.jobId), runs.map((r) => r.fence), workerId, leaseMs],
  };
}

/**
 * Every run `workerId` holds (the lease keeper thread's watchdog renewal, see lib/worker/lease-keeper.ts):
 * by owner, so the thread needs no list of runs. Through the partial lease index (running rows only).
 */
export function renewOwnedLeases(workerId: string, leaseMs: number): Sql {
  return {
    text: `UPDATE managed_jobs SET lease_expires_at = ${plusMs('$2')}
      WHERE lease_expires_at IS NOT NULL AND lease_owner = $1 AND status = 'running'`,
    values: [workerId, leaseMs],
  };
}
