/** Claiming jobs and renewing the leases of runs (SQLite): the hot path. */
import type { ClaimRequest, RunRef } from '../job-store.interface.js';
import { utcText } from '../row-mapper.js';
import { plusMs, type Sql } from './common.sql.js';

/**
 * The claim: one `UPDATE … RETURNING` fed by the ordered partial index `idx_managed_jobs_claim`.
 * The hot path's times are parameters (`@now`, `@leaseUntil`) read once per transaction from the
 * host clock, which for an embedded database is the database clock: `strftime()` per row and
 * column was a tenth of a claim. The `managed_job_queues` check (a paused queue is claimed from by
 * no one) is uncorrelated: SQLite evaluates it once per statement, one primary-key probe.
 */
const CLAIM_JOBS = `UPDATE managed_jobs SET status = 'running', attempts = attempts + 1, fence = fence + 1,
    lease_owner = @workerId, lease_expires_at = @leaseUntil, started_at = @now, finished_at = NULL, updated_at = @now
  WHERE job_id IN (
    SELECT job_id FROM managed_jobs
    WHERE status = 'pending' AND queue = @queue AND available_at <= @now AND type IN (SELECT value FROM json_each(@types))
      AND NOT EXISTS (SELECT 1 FROM managed_job_queues WHERE queue = @queue AND paused)
    ORDER BY priority DESC, job_id
    LIMIT @limit)
  RETURNING *`;

/** `nowMs`: the transaction's clock reading (`Date.now()`). */
export function claimJobs(c: ClaimRequest, nowMs: number): Sql {
  return {
    text: CLAIM_JOBS,
    values: [
      {
        workerId: c.workerId,
        leaseUntil: utcText(new Date(nowMs + c.leaseMs)),
        now: utcText(new Date(nowMs)),
        queue: c.queue,
        types: JSON.stringify(c.types),
        limit: c.limit,
      },
    ],
  };
}

const RENEW_LEASE = `UPDATE managed_jobs SET lease_expires_at = ${plusMs('?')}
  WHERE job_id = ? AND fence = ? AND status = 'running' AND lease_owner = ?`;

/** One run's lease (a heartbeat is a loop of these in one transaction). */
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
