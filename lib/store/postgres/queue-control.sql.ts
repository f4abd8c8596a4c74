/**
 * Unique jobs, concurrency keys and rate limits (PostgreSQL): the keyed insert, holders of unique
 * keys, and the statements of a limited claim (see lib/store/limited-claim.ts for the order).
 * Plain jobs never reach these: their insert and claim keep their own texts.
 */
import type { Completion, LimitedClaimRequest, NewJob } from '../job-store.interface.js';
import type { KeyColumn } from '../limited-claim.js';
import { HOLDS_UNIQUE_KEY } from '../../queue-control/unique-predicate.js';
import { NOW, plusMs, type Sql } from './common.sql.js';
import { INSERT_COLUMNS, INSERTED, jobColumnArrays, runControlArrays, sharesOptions, uniformValues } from './jobs.sql.js';
import { completionValues } from './run-end.sql.js';

/** As `insertJobs`, with the keys: a job whose unique key is held is skipped (`ON CONFLICT … DO NOTHING`, no error, nothing written). */
export function insertKeyedJobs(jobs: NewJob[], channel: string, notifyPayload: string): Sql {
  const [a] = jobs;
  const uniqueOnly = jobs.every((j) => j.keys!.concurrencyKey === null && j.keys!.rateKey === null && j.keys!.uniqueUntil === a.keys!.uniqueUntil);
  return uniqueOnly && sharesOptions(jobs) ? insertUniformUniqueJobs(jobs, channel, notifyPayload) : insertMixedKeyedJobs(jobs, channel, notifyPayload);
}

/**
 * Unique jobs of one type and the same options (one-by-one dispatches grouped, dispatch-groups.ts):
 * only ids, payloads and unique keys vary, the rest are scalars, and no key or token rows to
 * ensure, as `insertJobs` sends plain ones. The 22 arrays of the general form were the
 * difference to a plain grouped dispatch (bench enqUnique ÷ enqSingle, PostgreSQL).
 */
function insertUniformUniqueJobs(jobs: NewJob[], channel: string, notifyPayload: string): Sql {
  const [a] = jobs;
  return {
    text: `WITH ins AS (
      INSERT INTO managed_jobs (${INSERT_COLUMNS}, unique_key, unique_until)
      SELECT u.job_id, $3::text, $4::text, 'pending', $5::int, u.payload, $6::text, $7::text, $8::text, $9::int, $10::bool, COALESCE($11::timestamp, ${plusMs('$12')}), ${NOW}, ${NOW},
        $15::timestamp, $16::bool, $17::text, u.unique_key, $19::text
      FROM ROWS FROM (unnest($1::uuid[]), jsonb_array_elements($2::jsonb), unnest($18::text[])) AS u(job_id, payload, unique_key)
      ON CONFLICT (type, unique_key) WHERE ${HOLDS_UNIQUE_KEY} DO NOTHING
      RETURNING ${INSERTED}
    ), wake AS (SELECT pg_notify($13, $14))
    SELECT ins.* FROM ins CROSS JOIN wake`,
    values: [...uniformValues(jobs, channel, notifyPayload), jobs.map((j) => j.keys!.uniqueKey), a.keys!.uniqueUntil],
  };
}

function insertMixedKeyedJobs(jobs: NewJob[], channel: string, notifyPayload: string): Sql {
  return {
    text: `WITH u AS (
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::text[], $7::text[], $8::text[],
        $9::int[], $10::bool[], $11::timestamp[], $12::float8[], $13::text[], $14::text[], $15::text[], $16::text[], $17::int[],
        $20::timestamp[], $21::bool[], $22::text[])
        AS u(job_id, type, queue, priority, payload, owner, tenant, triggered, max_attempts, idempotent, available_at, delay_ms,
          unique_key, unique_until, concurrency_key, rate_key, rate_slots, retry_until, stoppable, trace_context)
    ), ins AS (
      INSERT INTO managed_jobs (job_id, type, queue, status, priority, payload, owner_user_id, owner_tenant_id, triggered_by_user_id,
        max_attempts, idempotent, available_at, created_at, updated_at, unique_key, unique_until, concurrency_key, rate_key,
        retry_until, stoppable, trace_context)
      SELECT u.job_id, u.type, u.queue, 'pending', u.priority, u.payload, u.owner, u.tenant, u.triggered, u.max_attempts, u.idempotent,
        COALESCE(u.available_at, ${plusMs('u.delay_ms')}), ${NOW}, ${NOW}, u.unique_key, u.unique_until, u.concurrency_key, u.rate_key,
        u.retry_until, u.stoppable, u.trace_context
      FROM u
      ON CONFLICT (type, unique_key) WHERE ${HOLDS_UNIQUE_KEY} DO NOTHING
      RETURNING job_id, available_at::text AS available_at, created_at::text AS created_at
    ), keys AS (
      INSERT INTO managed_job_keys (type, key_name)
      SELECT DISTINCT type, COALESCE(concurrency_key, rate_key) FROM u WHERE COALESCE(concurrency_key, rate_key) IS NOT NULL
      ON CONFLICT DO NOTHING
    ), tokens AS (
      INSERT INTO managed_job_rate_tokens (type, key_name, slot, until)
      SELECT DISTINCT u.type, u.rate_key, s.slot, timestamp '1970-01-01' FROM u CROSS JOIN LATERAL generate_series(1, u.rate_slots) AS s(slot)
      WHERE u.rate_key IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM managed_job_rate_tokens t WHERE t.type = u.type AND t.key_name = u.rate_key AND t.slot = u.rate_slots)
      ON CONFLICT DO NOTHING
    ), wake AS (SELECT pg_notify($18, $19))
    SELECT ins.* FROM ins CROSS JOIN wake`,
    values: [
      ...jobColumnArrays(jobs),
      jobs.map((j) => j.keys?.uniqueKey ?? null),
      jobs.map((j) => j.keys?.uniqueUntil ?? null),
      jobs.map((j) => j.keys?.concurrencyKey ?? null),
      jobs.map((j) => j.keys?.rateKey ?? null),
      jobs.map((j) => j.keys?.rateSlots ?? 0),
      channel,
      notifyPayload,
      ...runControlArrays(jobs),
    ],
  };
}

/**
 * The jobs holding these (type, unique key) pairs. Times and JSON as text: through a caller's
 * EntityManager the driver would parse them (as local time, as objects).
 */
export function uniqueHolders(pairs: Array<{ type: string; key: string }>): Sql {
  return {
    text: `SELECT *, available_at::text AS available_at, lease_expires_at::text AS lease_expires_at, started_at::text AS started_at,
        finished_at::text AS finished_at, created_at::text AS created_at, updated_at::text AS updated_at,
        payload::text AS payload, state::text AS state, result::text AS result
      FROM managed_jobs WHERE (type, unique_key) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND ${HOLDS_UNIQUE_KEY}`,
    values: [pairs.map((p) => p.type), pairs.map((p) => p.key)],
  };
}


/**
 * The queue, compared so that the claim index `(queue, priority DESC, job_id)` cannot serve it:
 * with statistics, the planner took that index for a key's first due job (its order matches,
 * and it expected a match soon) and walked a busy key's 100k pending jobs to find another
 * key's one (28 ms a claim). The key's own index is the only one left.
 */
const SAME_QUEUE = `(j.queue || '') = $2`;

/**
 * The keys of the type that have due jobs in the queue, each once: a walk of the key's own index
 * that jumps from one key to the next (one probe per key with due jobs), so the key rows of past
 * tenants with nothing queued cost nothing. Probing every key row for a due job instead was 27 ms a
 * claim with 10,000 idle keys, against 2 ms with none (PostgreSQL, 100 busy keys).
 */
const nextDueKey = (column: KeyColumn, after: string) => `(SELECT j.${column} FROM managed_jobs j
        WHERE j.status = 'pending' AND j.type = $1 AND j.${column} IS NOT NULL${after} AND ${SAME_QUEUE} AND j.available_at <= ${NOW}
        ORDER BY j.${column} LIMIT 1)`;

const dueKeys = (column: KeyColumn) => `WITH RECURSIVE due(key_name) AS (
      ${nextDueKey(column, '')}
      UNION ALL
      SELECT ${nextDueKey(column, ` AND j.${column} > d.key_name`)} FROM due d WHERE d.key_name IS NOT NULL
    )`;

/**
 * Lock up to `count` keys of the type that have due jobs in the queue, least recently served
 * first; keys another claimer holds are skipped. The running count and tokens of a locked key are
 * read by the next statement, whose snapshot is taken after the lock: no claimer can change them
 * in between (a claim of that key needs the lock), so the count is exact.
 */
export function lockKeys(c: LimitedClaimRequest, column: KeyColumn, count: number): Sql {
  return {
    // The keys named by an array (primary-key probes): as a join, a generic plan hashed every key row.
    text: `${dueKeys(column)}
      SELECT k.key_name FROM managed_job_keys k
      WHERE k.type = $1 AND k.key_name = ANY(ARRAY(SELECT d.key_name FROM due d WHERE d.key_name IS NOT NULL))
      ORDER BY k.served_at NULLS FIRST, k.key_name
      LIMIT $3
      FOR UPDATE OF k SKIP LOCKED`,
    values: [c.type, c.queue, count],
  };
}

/** Priority first; within a priority, round-robin: each key's first job in the keys' turn, then each key's second… */
const PICK_ORDER = `p.priority DESC, row_number() OVER (PARTITION BY p.key_name ORDER BY p.priority DESC, p.job_id), p.turn`;

/**
 * The next due jobs of each locked key, as many as it has room for: `limit` minus its running
 * runs (concurrency), or its free tokens (rate limit only). Busy keys read no pending job at all.
 */
export function pickJobs(c: LimitedClaimRequest, column: KeyColumn, keys: string[]): Sql {
  const room = c.concurrency
    ? `$5::int - (SELECT count(*) FROM managed_jobs r WHERE r.status = 'running' AND r.type = $1 AND r.concurrency_key = k.key_name)::int`
    : `(SELECT count(*) FROM managed_job_rate_tokens t WHERE t.type = $1 AND t.key_name = k.key_name AND t.slot <= $5::int AND t.until <= ${NOW})::int`;
  return {
    text: `SELECT p.job_id, p.key_name, p.rate_key FROM unnest($3::text[]) WITH ORDINALITY AS k(key_name, turn) CROSS JOIN LATERAL (
        SELECT j.job_id, j.priority, k.key_name, k.turn, j.rate_key FROM managed_jobs j
        WHERE j.status = 'pending' AND j.type = $1 AND j.${column} = k.key_name AND ${SAME_QUEUE} AND j.available_at <= ${NOW}
        ORDER BY j.priority DESC, j.job_id
        LIMIT GREATEST(${room}, 0)
        FOR UPDATE OF j SKIP LOCKED) p
      ORDER BY ${PICK_ORDER}
      LIMIT $4`,
    values: [c.type, c.queue, keys, c.limit, c.concurrency ?? c.rate!.max],
  };
}

/**
 * Take up to `count` free tokens of a rate key, each for one window from now; returns the slots
 * taken. Tokens locked by another claimer are skipped, and a token taken meanwhile fails the
 * recheck of `until`, so two claimers never take one token.
 */
export function takeTokens(c: LimitedClaimRequest, rateKey: string, count: number): Sql {
  return {
    // MATERIALIZED: as a join, the LIMIT subquery was rescanned per token row, and each rescan
    // skipped the tokens this statement had just updated and took the next one (all of them).
    text: `WITH f AS MATERIALIZED (SELECT slot FROM managed_job_rate_tokens WHERE type = $1 AND key_name = $2 AND slot <= $3 AND until <= ${NOW}
        ORDER BY until, slot LIMIT $4 FOR UPDATE SKIP LOCKED)
      UPDATE managed_job_rate_tokens t SET until = ${plusMs('$5')}
      FROM f WHERE t.type = $1 AND t.key_name = $2 AND t.slot = f.slot
      RETURNING t.slot`,
    values: [c.type, rateKey, c.rate!.max, count, c.rate!.perSeconds * 1000],
  };
}

/** When the next token of these rate keys frees up (UTC text), or null. */
export function nextToken(c: LimitedClaimRequest, rateKeys: string[]): Sql {
  return {
    text: `SELECT min(until)::text AS at FROM managed_job_rate_tokens WHERE type = $1 AND key_name = ANY($2::text[]) AND slot <= $3`,
    values: [c.type, rateKeys, c.rate!.max],
  };
}

/** Mark the picked jobs as this worker's runs (as the plain claim does), and the keys served. */
export function claimPicked(c: LimitedClaimRequest, jobIds: string[], servedKeys: string[]): Sql {
  return {
    text: `WITH served AS (
      UPDATE managed_job_keys SET served_at = ${NOW} WHERE type = $1 AND key_name = ANY($2::text[])
    ), claimed AS (
      UPDATE managed_jobs j SET status = 'running', attempts = j.attempts + 1, fence = j.fence + 1,
        lease_owner = $3, lease_expires_at = ${plusMs('$4')}, started_at = ${NOW}, finished_at = NULL, updated_at = ${NOW}
      WHERE j.job_id = ANY($5::uuid[]) AND j.status = 'pending'
      RETURNING j.*
    )
    SELECT * FROM claimed ORDER BY priority DESC, job_id`,
    values: [c.type, servedKeys, c.workerId, c.leaseMs, jobIds],
  };
}

/**
 * A concurrency-keyed type's claim in one round trip, after recording `runs` (none: a claim alone):
 * `managed_jobs_claim_keyed` (lib/migrations/postgres-keyed-claim.migration.ts) runs the lock, pick
 * and claim above, each statement with its own snapshot. Rows of completed runs come first
 * (`status = 'completed'`, only `job_id` and `finished_at` set), then the claimed jobs.
 */
export function claimKeyed(runs: Completion[], c: LimitedClaimRequest, lockCount: number): Sql {
  return {
    text: `SELECT * FROM managed_jobs_claim_keyed($1::uuid[], $2::int[], $3::jsonb[], $4::int[], $5::text[], $6::text, $7::text, $8::text,
      $9::int, $10::int, $11::int, $12::float8)`,
    values: [...completionValues(runs, c.workerId), c.type, c.queue, lockCount, c.limit, c.concurrency, c.leaseMs],
  };
}
