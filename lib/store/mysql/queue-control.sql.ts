/**
 * Unique jobs, concurrency keys and rate limits (MySQL/MariaDB): the keyed insert, the unique
 * holds, and the steps of a limited claim (lib/store/limited-claim.ts), in a READ COMMITTED
 * transaction: locked keys and tokens with `FOR UPDATE SKIP LOCKED`, each count read by a
 * statement that starts after the lock.
 */
import type { LimitedClaimRequest, NewJob } from '../job-store.interface.js';
import type { KeyColumn } from '../limited-claim.js';
import { availableAt } from './jobs.sql.js';
import { utcText } from '../row-mapper.js';
import { DB_NOW, JOB_COLUMNS, NOW, placeholders, type Sql } from './common.sql.js';

const INSERT_KEYED_JOB = `INSERT INTO managed_jobs (job_id, type, queue, status, priority, payload, owner_user_id, owner_tenant_id,
    triggered_by_user_id, max_attempts, idempotent, available_at, created_at, updated_at, unique_key, unique_until, concurrency_key, rate_key,
    retry_until, stoppable, trace_context)
  VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** One job with keys; `now`: the database clock (UTC text) read before. */
export function insertKeyedJob(j: NewJob, now: string): Sql {
  const k = j.keys!;
  return {
    text: INSERT_KEYED_JOB,
    values: [
      j.jobId, j.type, j.queue, j.priority, j.payload, j.ownerUserId, j.ownerTenantId, j.triggeredByUserId, j.maxAttempts,
      j.idempotent ? 1 : 0, availableAt(j, now), now, now, k.uniqueKey, k.uniqueUntil, k.concurrencyKey, k.rateKey,
      j.retryUntil ? utcText(j.retryUntil) : null, j.stoppable ? 1 : 0, j.traceContext ?? null,
    ],
  };
}

/** Create the hold of a unique key (naming this job) or lock the existing one until the transaction ends. */
export function takeHold(type: string, key: string, jobId: string): Sql {
  return {
    text: `INSERT INTO managed_job_unique_holds (type, unique_key, job_id) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE job_id = job_id`,
    values: [type, key, jobId],
  };
}

/** The job named by a hold (the hold row locked by `takeHold` before). */
export function holdOf(type: string, key: string): Sql {
  return { text: `SELECT job_id FROM managed_job_unique_holds WHERE type = ? AND unique_key = ?`, values: [type, key] };
}

/** A job at its latest committed version (a locking read, whatever the isolation level of the caller's transaction). */
export function lockedJob(jobId: string): Sql {
  return { text: `SELECT ${JOB_COLUMNS} FROM managed_jobs WHERE job_id = ? LOCK IN SHARE MODE`, values: [jobId] };
}

export function moveHold(type: string, key: string, jobId: string): Sql {
  return { text: `UPDATE managed_job_unique_holds SET job_id = ? WHERE type = ? AND unique_key = ?`, values: [jobId, type, key] };
}

export function ensureKey(type: string, key: string): Sql {
  return { text: `INSERT IGNORE INTO managed_job_keys (type, key_name) VALUES (?, ?)`, values: [type, key] };
}

export function hasTokens(type: string, key: string, slots: number): Sql {
  return { text: `SELECT 1 AS one FROM managed_job_rate_tokens WHERE type = ? AND key_name = ? AND slot = ?`, values: [type, key, slots] };
}

/** The `max` tokens of a rate key (run once, when the last slot is missing). */
export function ensureTokens(type: string, key: string, slots: number): Sql {
  const values: unknown[] = [];
  for (let slot = 1; slot <= slots; slot++) values.push(type, key, slot);
  return {
    text: `INSERT IGNORE INTO managed_job_rate_tokens (type, key_name, slot, until) VALUES ${Array.from({ length: slots }, () => `(?, ?, ?, '1970-01-01')`).join(', ')}`,
    values,
  };
}

const lockKeysText = (column: KeyColumn) => `SELECT k.key_name FROM managed_job_keys k
  WHERE k.type = ? AND EXISTS (SELECT 1 FROM managed_jobs j WHERE j.type = k.type AND j.${column} = k.key_name AND j.status = 'pending'
    AND j.queue = ? AND j.available_at <= ${NOW})
  ORDER BY k.served_at, k.key_name
  LIMIT ?
  FOR UPDATE SKIP LOCKED`;
const LOCK_KEYS = { concurrency_key: lockKeysText('concurrency_key'), rate_key: lockKeysText('rate_key') };

export function lockKeys(c: LimitedClaimRequest, column: KeyColumn, count: number): Sql {
  return { text: LOCK_KEYS[column], values: [c.type, c.queue, count] };
}

const RUNNING = `SELECT count(*) AS n FROM managed_jobs WHERE type = ? AND concurrency_key = ? AND status = 'running'`;
const FREE_TOKENS = `SELECT count(*) AS n FROM managed_job_rate_tokens WHERE type = ? AND key_name = ? AND slot <= ? AND until <= ${NOW}`;

export function keyLoad(c: LimitedClaimRequest, key: string): Sql {
  return c.concurrency ? { text: RUNNING, values: [c.type, key] } : { text: FREE_TOKENS, values: [c.type, key, c.rate!.max] };
}

const pickText = (column: KeyColumn) => `SELECT job_id, ${column} AS key_name, rate_key, priority FROM managed_jobs
  WHERE type = ? AND ${column} = ? AND status = 'pending' AND queue = ? AND available_at <= ${NOW}
  ORDER BY priority DESC, job_id LIMIT ?
  FOR UPDATE SKIP LOCKED`;
const PICK = { concurrency_key: pickText('concurrency_key'), rate_key: pickText('rate_key') };

export function pickJobs(c: LimitedClaimRequest, column: KeyColumn, key: string, count: number): Sql {
  return { text: PICK[column], values: [c.type, key, c.queue, count] };
}

/**
 * Free tokens of a rate key, locked. `now`: the claim's one clock reading (UTC text), which is
 * also its runs' `started_at`, so "a token per window" holds exactly for the stored start times.
 */
export function freeTokens(c: LimitedClaimRequest, rateKey: string, count: number, now: string): Sql {
  return {
    text: `SELECT slot FROM managed_job_rate_tokens WHERE type = ? AND key_name = ? AND slot <= ? AND until <= ?
      ORDER BY until, slot LIMIT ? FOR UPDATE SKIP LOCKED`,
    values: [c.type, rateKey, c.rate!.max, now, count],
  };
}

/** `until`: `now` plus the window (UTC text). */
export function useTokens(c: LimitedClaimRequest, rateKey: string, slots: number[], until: string): Sql {
  return {
    text: `UPDATE managed_job_rate_tokens SET until = ? WHERE type = ? AND key_name = ? AND slot IN (${placeholders(slots.length)})`,
    values: [until, c.type, rateKey, ...slots],
  };
}

export function nextToken(c: LimitedClaimRequest, rateKeys: string[]): Sql {
  return {
    text: `SELECT CAST(min(until) AS CHAR) AS at FROM managed_job_rate_tokens WHERE type = ? AND slot <= ? AND key_name IN (${placeholders(rateKeys.length)})`,
    values: [c.type, c.rate!.max, ...rateKeys],
  };
}

export function markServed(c: LimitedClaimRequest, keys: string[]): Sql {
  return {
    text: `UPDATE managed_job_keys SET served_at = ${NOW} WHERE type = ? AND key_name IN (${placeholders(keys.length)})`,
    values: [c.type, ...keys],
  };
}

export function selectJobs(jobIds: string[]): Sql {
  return { text: `SELECT ${JOB_COLUMNS}, ${DB_NOW} FROM managed_jobs WHERE job_id IN (${placeholders(jobIds.length)})`, values: jobIds };
}
