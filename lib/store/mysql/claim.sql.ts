/** Claiming jobs and renewing the leases of runs (MySQL/MariaDB): the hot path. */
import type { ClaimRequest, RunRef } from '../job-store.interface.js';
import { DB_NOW, JOB_COLUMNS, NOW, placeholders, plusMs, type Sql } from './common.sql.js';

/**
 * The first half of a claim (in a READ COMMITTED transaction): lock up to `limit` due jobs, in
 * claim order, skipping rows another claimer holds. The claim index
 * `(status, queue, priority DESC, job_id)` serves filter and order; the types are a residual
 * filter over one JSON array parameter, so the text is the same for any number of types. A paused
 * queue (`managed_job_queues`) is claimed from by no one: an uncorrelated primary-key probe, run
 * once per statement (the locking clause does not reach into the subquery).
 * Returns whole rows and the database clock (`db_now`), which the second half writes.
 */
const LOCK_CLAIMABLE = `SELECT ${JOB_COLUMNS}, ${DB_NOW} FROM managed_jobs
  WHERE status = 'pending' AND queue = ? AND available_at <= ${NOW} AND JSON_CONTAINS(?, JSON_QUOTE(type))
    AND NOT EXISTS (SELECT 1 FROM managed_job_queues WHERE queue = ? AND paused = 1)
  ORDER BY priority DESC, job_id
  LIMIT ?
  FOR UPDATE SKIP LOCKED`;

export function lockClaimable(c: ClaimRequest): Sql {
  return { text: LOCK_CLAIMABLE, values: [c.queue, JSON.stringify(c.types), c.queue, c.limit] };
}

/** The second half: mark the locked rows as this worker's run. `now`/`leaseUntil`: UTC text. */
export function markClaimed(jobIds: string[], workerId: string, now: string, leaseUntil: string): Sql {
  return {
    text: `UPDATE managed_jobs SET status = 'running', attempts = attempts + 1, fence = fence + 1, lease_owner = ?,
      lease_expires_at = ?, started_at = ?, finished_at = NULL, updated_at = ?
      WHERE job_id IN (${placeholders(jobIds.length)})`,
    values: [workerId, leaseUntil, now, now, ...jobIds],
  };
}

const RENEW_LEASE = `UPDATE managed_jobs SET lease_expires_at = ${plusMs('?')}
  WHERE job_id = ? AND fence = ? AND status = 'running' AND lease_owner = ?`;

/** One run's lease (a heartbeat is a loop of these in one transaction; matched rows count). */
export function renewLease(run: RunRef, workerId: string, leaseMs: number): Sql {
  return { text: RENEW_LEASE, values: [leaseMs, run.jobId, run.fence, workerId] };
}

/**
 * Every run `workerId` holds (the lease keeper thread's watchdog renewal, see lib/worker/lease-keeper.ts):
 * by owner, so the thread needs no list of runs. Through the lease index (running rows only).
 */
export function renewOwnedLeases(workerId: string, leaseMs: number): Sql {
  return {
    text: `UPDATE managed_jobs SET lease_expires_at = ${plusMs('?')}
      WHERE lease_expires_at IS NOT NULL AND lease_owner = ? AND status = 'running'`,
    values: [leaseMs, workerId],
  };
}
