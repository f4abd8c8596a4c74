/** Inserting and reading jobs, and the writes of a run that do not end it (PostgreSQL). */
import type { MemberColumns } from '../batch-store.interface.js';
import type { NewJob, RunRef, ScopeFilter } from '../job-store.interface.js';
import { utcText } from '../row-mapper.js';
import { NOW, plusMs, type Sql } from './common.sql.js';
import { scopeWhere } from './scope.sql.js';

/**
 * `notifyPayload`: the wake-up sent on `channel` (see `wake-message.ts`). `members`: the jobs are
 * that batch's members, `batch_id` and `batch_key` written by the insert itself (`$18`, `$19`).
 */
export function insertJobs(jobs: NewJob[], channel: string, notifyPayload: string, members?: MemberColumns): Sql {
  const q = sharesOptions(jobs) ? insertUniformJobs(jobs, channel, notifyPayload, members) : insertMixedJobs(jobs, channel, notifyPayload, members);
  if (members) q.values.push(members.batchId, members.keys);
  return q;
}

/** The batch columns of a members' insert: extra columns, their values, and the unnested keys. */
function memberParts(members: MemberColumns | undefined) {
  return members
    ? { columns: ', batch_id, batch_key', select: ', $18::uuid, u.batch_key', unnest: ', unnest($19::text[])', array: ', $19::text[]', alias: ', batch_key' }
    : { columns: '', select: '', unnest: '', array: '', alias: '' };
}

/** Whether every job has the first one's options (the usual bulk dispatch): then they go as scalars. */
export function sharesOptions(jobs: NewJob[]): boolean {
  const [a] = jobs;
  return jobs.every(
    (j) =>
      j.type === a.type &&
      j.queue === a.queue &&
      j.priority === a.priority &&
      j.ownerUserId === a.ownerUserId &&
      j.ownerTenantId === a.ownerTenantId &&
      j.triggeredByUserId === a.triggeredByUserId &&
      j.maxAttempts === a.maxAttempts &&
      j.idempotent === a.idempotent &&
      (j.availableAt?.getTime() ?? null) === (a.availableAt?.getTime() ?? null) &&
      j.delayMs === a.delayMs &&
      (j.retryUntil?.getTime() ?? null) === (a.retryUntil?.getTime() ?? null) &&
      j.stoppable === a.stoppable &&
      (j.traceContext ?? null) === (a.traceContext ?? null),
  );
}

/**
 * What an insert returns (the record is built from what was inserted). Times as text: through a
 * caller's EntityManager the rows come from TypeORM's pool, whose driver would parse a
 * `timestamp` as local time.
 */
export const INSERTED = `job_id, available_at::text AS available_at, created_at::text AS created_at`;

export const INSERT_COLUMNS = `job_id, type, queue, status, priority, payload, owner_user_id, owner_tenant_id,
        triggered_by_user_id, max_attempts, idempotent, available_at, created_at, updated_at, retry_until, stoppable, trace_context`;

/**
 * \`$1\`–\`$17\` of a uniform insert (this one and the unique one in queue-control.sql.ts): the ids,
 * the payloads as one JSON array, then the options every job shares.
 */
export function uniformValues(jobs: NewJob[], channel: string, notifyPayload: string): unknown[] {
  const [a] = jobs;
  return [
    jobs.map((j) => j.jobId),
    `[${jobs.map((j) => j.payload).join(',')}]`,
    a.type,
    a.queue,
    a.priority,
    a.ownerUserId,
    a.ownerTenantId,
    a.triggeredByUserId,
    a.maxAttempts,
    a.idempotent,
    a.availableAt ? utcText(a.availableAt) : null,
    a.delayMs,
    channel,
    notifyPayload,
    a.retryUntil ? utcText(a.retryUntil) : null,
    a.stoppable,
    a.traceContext ?? null,
  ];
}

/**
 * Only ids and payloads vary; the shared options are single parameters. The payloads (JSON text
 * already) travel as one JSON array, zipped with the ids by `ROWS FROM`: no array-literal quoting
 * of every payload on the way in, one JSON parse on the server.
 */
function insertUniformJobs(jobs: NewJob[], channel: string, notifyPayload: string, members?: MemberColumns): Sql {
  const m = memberParts(members);
  return {
    text: `WITH ins AS (
      INSERT INTO managed_jobs (${INSERT_COLUMNS}${m.columns})
      SELECT u.job_id, $3::text, $4::text, 'pending', $5::int, u.payload, $6::text, $7::text, $8::text, $9::int, $10::bool, COALESCE($11::timestamp, ${plusMs('$12')}), ${NOW}, ${NOW},
        $15::timestamp, $16::bool, $17::text${m.select}
      FROM ROWS FROM (unnest($1::uuid[]), jsonb_array_elements($2::jsonb)${m.unnest}) AS u(job_id, payload${m.alias})
      RETURNING ${INSERTED}
    ), wake AS (SELECT pg_notify($13, $14))
    SELECT ins.* FROM ins CROSS JOIN wake`,
    values: uniformValues(jobs, channel, notifyPayload),
  };
}

function insertMixedJobs(jobs: NewJob[], channel: string, notifyPayload: string, members?: MemberColumns): Sql {
  const m = memberParts(members);
  return {
    text: `WITH ins AS (
      INSERT INTO managed_jobs (${INSERT_COLUMNS}${m.columns})
      SELECT u.job_id, u.type, u.queue, 'pending', u.priority, u.payload, u.owner, u.tenant, u.triggered,
        u.max_attempts, u.idempotent, COALESCE(u.available_at, ${plusMs('u.delay_ms')}), ${NOW}, ${NOW}, u.retry_until, u.stoppable, u.trace_context${m.select}
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::text[], $7::text[], $8::text[],
        $9::int[], $10::bool[], $11::timestamp[], $12::float8[], $15::timestamp[], $16::bool[], $17::text[]${m.array})
        AS u(job_id, type, queue, priority, payload, owner, tenant, triggered, max_attempts, idempotent, available_at, delay_ms, retry_until, stoppable, trace_context${m.alias})
      RETURNING ${INSERTED}
    ), wake AS (SELECT pg_notify($13, $14))
    SELECT ins.* FROM ins CROSS JOIN wake`,
    values: [
      ...jobColumnArrays(jobs),
      channel,
      notifyPayload,
      ...runControlArrays(jobs),
    ],
  };
}

/**
 * The per-job parameters of a multi-row insert, `$1`–`$12` in this order (ids to `delay_ms`): one
 * list for every insert that unnests jobs (plain and keyed), so a new column cannot be forgotten
 * in one of them.
 */
export function jobColumnArrays(jobs: NewJob[]): unknown[][] {
  return [
    jobs.map((j) => j.jobId),
    jobs.map((j) => j.type),
    jobs.map((j) => j.queue),
    jobs.map((j) => j.priority),
    jobs.map((j) => j.payload),
    jobs.map((j) => j.ownerUserId),
    jobs.map((j) => j.ownerTenantId),
    jobs.map((j) => j.triggeredByUserId),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => j.idempotent),
    jobs.map((j) => (j.availableAt ? utcText(j.availableAt) : null)),
    jobs.map((j) => j.delayMs),
  ];
}

/** The run-control and telemetry columns of a multi-row insert: `retry_until`, `stoppable`, `trace_context`. */
export function runControlArrays(jobs: NewJob[]): unknown[][] {
  return [jobs.map((j) => (j.retryUntil ? utcText(j.retryUntil) : null)), jobs.map((j) => j.stoppable), jobs.map((j) => j.traceContext ?? null)];
}

/** `ctx.disableStop()`: marks the run (fenced), so that `stop()` refuses the job while it runs. */
export function disableStop(run: RunRef): Sql {
  return {
    text: `UPDATE managed_jobs SET stop_disabled_fence = fence WHERE job_id = $1 AND fence = $2 AND status = 'running'`,
    values: [run.jobId, run.fence],
  };
}

export function findJob(jobId: string, scope?: ScopeFilter): Sql {
  const values: unknown[] = [jobId];
  return { text: `SELECT * FROM managed_jobs WHERE job_id = $1${scopeWhere(scope, values)}`, values };
}

export function updateProgress(run: RunRef, percent: number, message: string | null): Sql {
  return {
    text: `UPDATE managed_jobs SET progress_percentage = $3, progress_message = $4, updated_at = ${NOW}
      WHERE job_id = $1 AND fence = $2 AND status = 'running' RETURNING *`,
    values: [run.jobId, run.fence, percent, message],
  };
}

export function saveState(run: RunRef, state: string): Sql {
  return {
    text: `UPDATE managed_jobs SET state = $3::jsonb, updated_at = ${NOW}
      WHERE job_id = $1 AND fence = $2 AND status = 'running'`,
    values: [run.jobId, run.fence, state],
  };
}

export function loadSteps(jobId: string): Sql {
  return { text: `SELECT name, result FROM managed_job_steps WHERE job_id = $1`, values: [jobId] };
}

/** Recorded only while the run still owns the job, so a zombie cannot record a step. */
export function saveStep(run: RunRef, name: string, result: string | null): Sql {
  return {
    text: `INSERT INTO managed_job_steps (job_id, name, result, completed_at)
      SELECT job_id, $3, $4::jsonb, ${NOW} FROM managed_jobs WHERE job_id = $1 AND fence = $2 AND status = 'running'
      ON CONFLICT (job_id, name) DO NOTHING`,
    values: [run.jobId, run.fence, name, result],
  };
}

/** A stopped run's late return value, for that run only: same fence, still stopped, no result yet. */
export function keepStoppedResult(run: RunRef, result: string): Sql {
  return {
    text: `UPDATE managed_jobs SET result = $3::jsonb, updated_at = ${NOW}
      WHERE job_id = $1 AND fence = $2 AND status = 'stopped' AND result IS NULL`,
    values: [run.jobId, run.fence, result],
  };
}

/**
 * A fresh set of tries: `attempts` starts again at 0 (the ledger keeps every earlier run);
 * `retryUntil`, when not null, replaces the stored moment. `wakePrefix || queue` is the wake-up (see `wake-message.ts`).
 */
export function retryJob(jobId: string, tries: number, retryUntil: Date | null, scope: ScopeFilter | undefined, channel: string, wakePrefix: string): Sql {
  const values: unknown[] = [jobId, tries, channel, wakePrefix, retryUntil ? utcText(retryUntil) : null];
  const where = scopeWhere(scope, values);
  return {
    text: `WITH r AS (
      UPDATE managed_jobs SET status = 'pending', attempts = 0, max_attempts = $2, retry_until = COALESCE($5::timestamp, retry_until), progress_percentage = 0,
        progress_message = NULL, failed_reason = NULL, result = NULL, started_at = NULL, finished_at = NULL,
        available_at = ${NOW}, updated_at = ${NOW}
      WHERE job_id = $1 AND status IN ('failed', 'stopped')${where}
      RETURNING *
    ), wake AS (SELECT pg_notify($3, $4::text || r.queue) FROM r)
    SELECT r.* FROM r LEFT JOIN wake ON true`,
    values,
  };
}
