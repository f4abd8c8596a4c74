/**
 * Unique jobs, concurrency keys and rate limits (SQLite): the keyed insert, holders of unique
 * keys, and the steps of a limited claim (lib/store/limited-claim.ts), a few statements inside
 * one immediate transaction (single writer: nothing to lock beyond it).
 * Times of the claim are the transaction's clock reading (`now`, UTC text), as the plain claim's.
 */
import type { LimitedClaimRequest, NewJob } from '../job-store.interface.js';
import type { KeyColumn } from '../limited-claim.js';
import { HOLDS_UNIQUE_KEY } from '../../queue-control/unique-predicate.js';
import { utcText } from '../row-mapper.js';
import { NOW, plusMs, type Sql } from './common.sql.js';

const INSERT_KEYED_JOB = `INSERT INTO managed_jobs (job_id, type, queue, status, priority, payload, owner_user_id, owner_tenant_id,
    triggered_by_user_id, max_attempts, idempotent, available_at, created_at, updated_at, unique_key, unique_until, concurrency_key, rate_key,
    retry_until, stoppable, trace_context)
  VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, COALESCE(?, ${plusMs('?')}), ${NOW}, ${NOW}, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (type, unique_key) WHERE ${HOLDS_UNIQUE_KEY} DO NOTHING
  RETURNING job_id, available_at, created_at`;

/** One job with keys; no row back when its unique key is held. */
export function insertKeyedJob(j: NewJob): Sql {
  const k = j.keys!;
  return {
    text: INSERT_KEYED_JOB,
    values: [
      j.jobId, j.type, j.queue, j.priority, j.payload, j.ownerUserId, j.ownerTenantId, j.triggeredByUserId, j.maxAttempts,
      j.idempotent ? 1 : 0, j.availableAt ? utcText(j.availableAt) : null, j.delayMs,
      k.uniqueKey, k.uniqueUntil, k.concurrencyKey, k.rateKey,
      j.retryUntil ? utcText(j.retryUntil) : null, j.stoppable ? 1 : 0, j.traceContext ?? null,
    ],
  };
}

const ENSURE_KEY = `INSERT OR IGNORE INTO managed_job_keys (type, key_name) VALUES (?, ?)`;

export function ensureKey(type: string, key: string): Sql {
  return { text: ENSURE_KEY, values: [type, key] };
}

const ENSURE_TOKENS = `WITH RECURSIVE s(slot) AS (SELECT 1 UNION ALL SELECT slot + 1 FROM s WHERE slot < @slots)
  INSERT OR IGNORE INTO managed_job_rate_tokens (type, key_name, slot, until)
  SELECT @type, @key, slot, '1970-01-01 00:00:00.000' FROM s
  WHERE NOT EXISTS (SELECT 1 FROM managed_job_rate_tokens WHERE type = @type AND key_name = @key AND slot = @slots)`;

/** The `max` tokens of a rate key (once; more when `max` grew). */
export function ensureTokens(type: string, key: string, slots: number): Sql {
  return { text: ENSURE_TOKENS, values: [{ type, key, slots }] };
}

const UNIQUE_HOLDER = `SELECT * FROM managed_jobs WHERE type = ? AND unique_key = ? AND ${HOLDS_UNIQUE_KEY}`;

export function uniqueHolder(type: string, key: string): Sql {
  return { text: UNIQUE_HOLDER, values: [type, key] };
}

/**
 * The key's own index, named: after ANALYZE, SQLite preferred the claim index (whose order
 * matches `ORDER BY priority DESC, job_id`) and walked every pending job of the queue to find
 * one key's (100k pending in a busy key: 35 ms a claim instead of 0.3).
 */
const KEY_INDEX = { concurrency_key: 'idx_managed_jobs_ckey', rate_key: 'idx_managed_jobs_rkey' };

/**
 * The keys with due jobs come from the key's own index, walked from one key to the next (one probe
 * per key with due jobs), not from every key row: the key rows of past tenants with nothing
 * queued cost nothing (see lockKeys in lib/store/postgres/queue-control.sql.ts, measured there).
 */
const nextDueKey = (column: KeyColumn, after: string) => `(SELECT j.${column} FROM managed_jobs j INDEXED BY ${KEY_INDEX[column]}
      WHERE j.status = 'pending' AND j.type = @type AND j.${column} IS NOT NULL${after} AND j.queue = @queue AND j.available_at <= @now
      ORDER BY j.${column} LIMIT 1)`;

const lockKeysText = (column: KeyColumn) => `WITH RECURSIVE due(key_name) AS (
    SELECT ${nextDueKey(column, '')}
    UNION ALL
    SELECT ${nextDueKey(column, ` AND j.${column} > due.key_name`)} FROM due WHERE due.key_name IS NOT NULL
  )
  SELECT k.key_name FROM managed_job_keys k
  WHERE k.type = @type AND k.key_name IN (SELECT key_name FROM due WHERE key_name IS NOT NULL)
  ORDER BY k.served_at, k.key_name
  LIMIT @count`;
const LOCK_KEYS = { concurrency_key: lockKeysText('concurrency_key'), rate_key: lockKeysText('rate_key') };

/** Keys with due jobs, least recently served first (NULLs sort first). */
export function lockKeys(c: LimitedClaimRequest, column: KeyColumn, count: number, now: string): Sql {
  return { text: LOCK_KEYS[column], values: [{ type: c.type, queue: c.queue, now, count }] };
}

/** A key's next due job after the one at `after` (a pick's row), or its first when `after` is null: one probe of the key's own index. */
const nextDue = (column: KeyColumn, key: string, extra: string, order: string) => `(SELECT job_id FROM managed_jobs INDEXED BY ${KEY_INDEX[column]}
      WHERE status = 'pending' AND type = @type AND ${column} = ${key} AND queue = @queue AND available_at <= @now${extra}
      ORDER BY ${order} LIMIT 1)`;

/** A key's room: `cap` minus its running runs (concurrency keys), or its free tokens (rate keys: a rate limit only). */
const ROOM = {
  concurrency_key: `@cap - (SELECT count(*) FROM managed_jobs r WHERE r.status = 'running' AND r.type = @type AND r.concurrency_key = value)`,
  rate_key: `(SELECT count(*) FROM managed_job_rate_tokens t WHERE t.type = @type AND t.key_name = value AND t.slot <= @cap AND t.until <= @now)`,
};

/**
 * The picks of every locked key in one statement: `k` holds each key's room (at most `limit`), and
 * a recursive walk takes a key's first due job, then its next, while it has room. A busy key
 * (no room) reads no pending job at all, and a key with 100k pending jobs costs as many index
 * probes as it has room. SQLite has no LATERAL (nor a LIMIT that reads a column), hence the walk:
 * the next job of a key comes after the last one's (priority, job_id) in the index's order, the
 * same priority first. Ordered as `roundRobin` orders (priority, then each key's nth job, then the
 * keys' turn).
 * Measured (bench drain50keys, 100 keys of limit 1, c=50): a statement per key for its running
 * count and one for its jobs was 2 × 100 statements a claim, 1.6 ms of a 50-job claim's 3 ms.
 */
const pickText = (column: KeyColumn) => `WITH RECURSIVE k(key_name, turn, room) AS MATERIALIZED (
    SELECT value, key, min(@limit, ${ROOM[column]}) FROM json_each(@keys)
  ), p(key_name, turn, room, n, job_id, priority, rate_key) AS (
    SELECT k.key_name, k.turn, k.room, 1, j.job_id, j.priority, j.rate_key
      FROM k JOIN managed_jobs j ON j.job_id = ${nextDue(column, 'k.key_name', '', 'priority DESC, job_id')}
      WHERE k.room > 0
    UNION ALL
    SELECT p.key_name, p.turn, p.room, p.n + 1, j.job_id, j.priority, j.rate_key
      FROM p JOIN managed_jobs j ON j.job_id = COALESCE(${nextDue(column, 'p.key_name', ' AND priority = p.priority AND job_id > p.job_id', 'job_id')},
        ${nextDue(column, 'p.key_name', ' AND priority < p.priority', 'priority DESC, job_id')})
      WHERE p.n < p.room
  )
  SELECT job_id, key_name, rate_key, priority FROM p ORDER BY priority DESC, n, turn LIMIT @limit`;
const PICK = { concurrency_key: pickText('concurrency_key'), rate_key: pickText('rate_key') };

/** Up to `limit` due jobs of these keys (in their turn), as many from each as it has room for. */
export function pickJobs(c: LimitedClaimRequest, column: KeyColumn, keys: string[], now: string): Sql {
  const cap = column === 'concurrency_key' ? c.concurrency! : c.rate!.max;
  return { text: PICK[column], values: [{ type: c.type, queue: c.queue, now, keys: JSON.stringify(keys), limit: c.limit, cap }] };
}

const TAKE_TOKENS = `UPDATE managed_job_rate_tokens SET until = @until
  WHERE type = @type AND key_name = @key AND slot IN (SELECT slot FROM managed_job_rate_tokens
    WHERE type = @type AND key_name = @key AND slot <= @max AND until <= @now ORDER BY until, slot LIMIT @count)`;

export function takeTokens(c: LimitedClaimRequest, rateKey: string, count: number, nowMs: number): Sql {
  return {
    text: TAKE_TOKENS,
    values: [{ until: utcText(new Date(nowMs + c.rate!.perSeconds * 1000)), type: c.type, key: rateKey, max: c.rate!.max, now: utcText(new Date(nowMs)), count }],
  };
}

const NEXT_TOKEN = `SELECT min(until) AS at FROM managed_job_rate_tokens WHERE type = ? AND key_name IN (SELECT value FROM json_each(?)) AND slot <= ?`;

export function nextToken(c: LimitedClaimRequest, rateKeys: string[]): Sql {
  return { text: NEXT_TOKEN, values: [c.type, JSON.stringify(rateKeys), c.rate!.max] };
}

const CLAIM_PICKED = `UPDATE managed_jobs SET status = 'running', attempts = attempts + 1, fence = fence + 1,
    lease_owner = ?, lease_expires_at = ?, started_at = ?, finished_at = NULL, updated_at = ?
  WHERE job_id IN (SELECT value FROM json_each(?)) AND status = 'pending'
  RETURNING *`;

export function claimPicked(c: LimitedClaimRequest, jobIds: string[], nowMs: number): Sql {
  const now = utcText(new Date(nowMs));
  return { text: CLAIM_PICKED, values: [c.workerId, utcText(new Date(nowMs + c.leaseMs)), now, now, JSON.stringify(jobIds)] };
}

const SERVED = `UPDATE managed_job_keys SET served_at = ? WHERE type = ? AND key_name IN (SELECT value FROM json_each(?))`;

export function markServed(c: LimitedClaimRequest, keys: string[], now: string): Sql {
  return { text: SERVED, values: [now, c.type, JSON.stringify(keys)] };
}
