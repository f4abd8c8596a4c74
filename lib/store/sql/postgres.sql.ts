/**
 * PostgreSQL statements of the queue, one function per statement, each returning `{ text, values }`.
 *
 * Design notes:
 * - Every timestamp is UTC from the database clock: `NOW` below. Worker clocks are never compared.
 * - Multi-row writes take parallel arrays and `unnest` them, so a batch is one round trip.
 * - The ledger (`managed_job_attempts`) gets one row per run, inserted by the statement that ends
 *   the run (completion, failure, release, stop, reaping) through a data-modifying CTE: auditing
 *   costs no extra round trip, and nothing at claim time. A run in progress is the job row itself
 *   (`fence`, `lease_owner`, `started_at`).
 * - Every write of a running worker matches `fence` and `status = 'running'`; a stopped,
 *   reassigned or reaped run changes nothing.
 */
import type { ClaimRequest, Completion, Failure, ListFilter, NewFile, NewJob, RunRef, ScopeFilter } from '../job-store.interface.js';
import { utcText } from '../row-mapper.js';

export interface Sql {
  text: string;
  values: unknown[];
}

const NOW = `timezone('UTC', now())`;
const plusMs = (param: string) => `${NOW} + make_interval(secs => ${param}::float8 / 1000.0)`;

function scopeWhere(scope: ScopeFilter | undefined, values: unknown[], alias = ''): string {
  let sql = '';
  if (scope?.ownerUserId != null) {
    values.push(scope.ownerUserId);
    sql += ` AND ${alias}owner_user_id = $${values.length}`;
  }
  if (scope?.ownerTenantId != null) {
    values.push(scope.ownerTenantId);
    sql += ` AND ${alias}owner_tenant_id = $${values.length}`;
  }
  return sql;
}

export function insertJobs(jobs: NewJob[], channel: string, notifyPayload: string): Sql {
  return sharesOptions(jobs) ? insertUniformJobs(jobs, channel, notifyPayload) : insertMixedJobs(jobs, channel, notifyPayload);
}

/** Whether every job has the first one's options (the usual bulk dispatch): then they go as scalars. */
function sharesOptions(jobs: NewJob[]): boolean {
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
      j.delayMs === a.delayMs,
  );
}

/**
 * What an insert returns (the record is built from what was inserted). Times as text: through a
 * caller's EntityManager the rows come from TypeORM's pool, whose driver would parse a
 * `timestamp` as local time.
 */
const INSERTED = `job_id, available_at::text AS available_at, created_at::text AS created_at`;

const INSERT_COLUMNS = `job_id, type, queue, status, priority, payload, owner_user_id, owner_tenant_id,
        triggered_by_user_id, max_attempts, idempotent, available_at, created_at, updated_at`;

/**
 * Only ids and payloads vary; the shared options are single parameters. The payloads (JSON text
 * already) travel as one JSON array, zipped with the ids by `ROWS FROM`: no array-literal quoting
 * of every payload on the way in, one JSON parse on the server.
 */
function insertUniformJobs(jobs: NewJob[], channel: string, notifyPayload: string): Sql {
  const [a] = jobs;
  return {
    text: `WITH ins AS (
      INSERT INTO managed_jobs (${INSERT_COLUMNS})
      SELECT u.job_id, $3::text, $4::text, 'pending', $5::int, u.payload, $6::text, $7::text, $8::text, $9::int, $10::bool, COALESCE($11::timestamp, ${plusMs('$12')}), ${NOW}, ${NOW}
      FROM ROWS FROM (unnest($1::uuid[]), jsonb_array_elements($2::jsonb)) AS u(job_id, payload)
      RETURNING ${INSERTED}
    ), wake AS (SELECT pg_notify($13, $14))
    SELECT ins.* FROM ins CROSS JOIN wake`,
    values: [
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
    ],
  };
}

function insertMixedJobs(jobs: NewJob[], channel: string, notifyPayload: string): Sql {
  return {
    text: `WITH ins AS (
      INSERT INTO managed_jobs (${INSERT_COLUMNS})
      SELECT u.job_id, u.type, u.queue, 'pending', u.priority, u.payload, u.owner, u.tenant, u.triggered,
        u.max_attempts, u.idempotent, COALESCE(u.available_at, ${plusMs('u.delay_ms')}), ${NOW}, ${NOW}
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::text[], $7::text[], $8::text[],
        $9::int[], $10::bool[], $11::timestamp[], $12::float8[])
        AS u(job_id, type, queue, priority, payload, owner, tenant, triggered, max_attempts, idempotent, available_at, delay_ms)
      RETURNING ${INSERTED}
    ), wake AS (SELECT pg_notify($13, $14))
    SELECT ins.* FROM ins CROSS JOIN wake`,
    values: [
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
      channel,
      notifyPayload,
    ],
  };
}

export function findJob(jobId: string, scope?: ScopeFilter): Sql {
  const values: unknown[] = [jobId];
  return { text: `SELECT * FROM managed_jobs WHERE job_id = $1${scopeWhere(scope, values)}`, values };
}

export function listJobs(filter: ListFilter): { rows: Sql; count: Sql } {
  const values: unknown[] = [];
  let where = `WHERE true${scopeWhere({ ownerUserId: filter.ownerUserId ?? null, ownerTenantId: filter.ownerTenantId ?? null }, values)}`;
  if (filter.statuses?.length) {
    values.push(filter.statuses);
    where += ` AND status = ANY($${values.length}::text[])`;
  }
  if (filter.type) {
    values.push(filter.type);
    where += ` AND type = $${values.length}`;
  }
  return {
    rows: {
      text: `SELECT * FROM managed_jobs ${where} ORDER BY job_id DESC LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
      values: [...values, filter.limit, filter.offset],
    },
    count: { text: `SELECT count(*)::int AS total FROM managed_jobs ${where}`, values },
  };
}

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
function claimCtes(queue: string, limit: string, workerId: string, leaseMs: string, types: string): string {
  return `next AS (
      SELECT job_id FROM managed_jobs
      WHERE status = 'pending' AND queue = ${queue} AND available_at <= ${NOW} AND type = ANY(${types}::text[])
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

/** The columns of `managed_jobs`, in table order (claimed rows are returned with exactly these). */
const JOB_COLUMNS = [
  'job_id', 'type', 'queue', 'status', 'priority', 'payload', 'state', 'result', 'progress_percentage', 'progress_message',
  'owner_user_id', 'owner_tenant_id', 'triggered_by_user_id', 'attempts', 'max_attempts', 'idempotent', 'available_at',
  'lease_owner', 'lease_expires_at', 'fence', 'failed_reason', 'started_at', 'finished_at', 'created_at', 'updated_at',
];

/** Completions are batched: many finished runs, one statement (job rows and their ledger rows). */
function completeCtes(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `done AS (
      UPDATE managed_jobs j SET status = 'completed', result = r.result, progress_percentage = r.progress,
        progress_message = r.message, failed_reason = NULL, lease_owner = NULL, lease_expires_at = NULL,
        finished_at = ${NOW}, updated_at = ${NOW}
      FROM unnest(${p(0)}::uuid[], ${p(1)}::int[], ${p(2)}::jsonb[], ${p(3)}::int[], ${p(4)}::text[]) AS r(job_id, fence, result, progress, message)
      WHERE j.job_id = r.job_id AND j.fence = r.fence AND j.status = 'running'
      RETURNING j.job_id, j.fence, j.attempts, j.started_at, j.finished_at
    ), ledger AS (
      INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome)
      SELECT job_id, fence, attempts, ${p(5)}, started_at, finished_at, 'completed' FROM done
    )`;
}

function completionValues(runs: Completion[], workerId: string): unknown[] {
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
  const retry = run.retryInSeconds !== null;
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
      SELECT job_id, fence, attempts, $9, started_at, ${NOW}, $8, $4::text FROM f
    )
    SELECT * FROM f`,
    values: [
      run.jobId,
      run.fence,
      retry ? 'pending' : 'failed',
      run.reason,
      (run.retryInSeconds ?? 0) * 1000,
      run.progress,
      run.message,
      retry && run.outcome === 'failed' ? 'retrying' : run.outcome,
      workerId,
    ],
  };
}

/** Shutdown hand-back: the run does not count as a try. */
export function releaseJobs(runs: RunRef[], workerId: string, channel: string): Sql {
  return {
    text: `WITH rel AS (
      UPDATE managed_jobs j SET status = 'pending', attempts = GREATEST(j.attempts - 1, 0), lease_owner = NULL,
        lease_expires_at = NULL, available_at = ${NOW}, updated_at = ${NOW}
      FROM unnest($1::uuid[], $2::int[]) AS r(job_id, fence)
      WHERE j.job_id = r.job_id AND j.fence = r.fence AND j.status = 'running'
      RETURNING j.*
    ), ledger AS (
      INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome)
      SELECT job_id, fence, attempts + 1, $4, started_at, ${NOW}, 'released' FROM rel
    ), wake AS (SELECT pg_notify($3, 'd:') )
    SELECT rel.* FROM rel CROSS JOIN wake`,
    values: [runs.map((r) => r.jobId), runs.map((r) => r.fence), channel, workerId],
  };
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

export function stopJob(jobId: string, scope: ScopeFilter | undefined, channel: string): Sql {
  const values: unknown[] = [jobId, channel];
  const where = scopeWhere(scope, values);
  return {
    text: `WITH old AS (
      SELECT job_id, fence, status, attempts, lease_owner, started_at FROM managed_jobs
      WHERE job_id = $1 AND status IN ('pending', 'running')${where}
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
    ), wake AS (SELECT pg_notify($2, 's:' || s.job_id) FROM s)
    SELECT s.* FROM s LEFT JOIN wake ON true`,
    values,
  };
}

export function retryJob(jobId: string, tries: number, scope: ScopeFilter | undefined, channel: string): Sql {
  const values: unknown[] = [jobId, tries, channel];
  const where = scopeWhere(scope, values);
  return {
    text: `WITH r AS (
      UPDATE managed_jobs SET status = 'pending', attempts = 0, max_attempts = $2, progress_percentage = 0,
        progress_message = NULL, failed_reason = NULL, result = NULL, started_at = NULL, finished_at = NULL,
        available_at = ${NOW}, updated_at = ${NOW}
      WHERE job_id = $1 AND status IN ('failed', 'stopped')${where}
      RETURNING *
    ), wake AS (SELECT pg_notify($3, 'd:' || r.queue) FROM r)
    SELECT r.* FROM r LEFT JOIN wake ON true`,
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
        failed_reason = CASE WHEN dead.requeue THEN j.failed_reason ELSE replace($2, '{worker}', coalesce(j.lease_owner, '?')) END,
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

export function insertFile(run: RunRef, file: NewFile): Sql {
  return {
    text: `INSERT INTO managed_job_files (job_file_id, job_id, filename, path, mime_type, size_bytes, expires_at, created_at)
      SELECT $3, job_id, $4, $5, $6, $7, COALESCE($8::timestamp, ${NOW} + make_interval(days => $9::int)), ${NOW}
      FROM managed_jobs WHERE job_id = $1 AND fence = $2 AND status = 'running'
      RETURNING *`,
    values: [
      run.jobId,
      run.fence,
      file.jobFileId,
      file.filename,
      file.path,
      file.mimeType,
      file.sizeBytes,
      file.expiresAt ? utcText(file.expiresAt) : null,
      file.expiryDays,
    ],
  };
}

export function listFiles(jobId: string, includeExpired: boolean): Sql {
  return {
    text: `SELECT * FROM managed_job_files WHERE job_id = $1 AND deleted_at IS NULL
      ${includeExpired ? '' : `AND expires_at > ${NOW}`} ORDER BY created_at, job_file_id`,
    values: [jobId],
  };
}

export function findFile(jobId: string, fileId: string): Sql {
  return {
    text: `SELECT * FROM managed_job_files WHERE job_id = $1 AND job_file_id = $2 AND deleted_at IS NULL AND expires_at > ${NOW}`,
    values: [jobId, fileId],
  };
}

export function expiredFiles(limit: number): Sql {
  return {
    text: `SELECT * FROM managed_job_files WHERE deleted_at IS NULL AND expires_at <= ${NOW} ORDER BY expires_at LIMIT $1`,
    values: [limit],
  };
}

export function markFilesDeleted(fileIds: string[]): Sql {
  return {
    text: `UPDATE managed_job_files SET deleted_at = ${NOW} WHERE job_file_id = ANY($1::uuid[]) AND deleted_at IS NULL`,
    values: [fileIds],
  };
}

export function prunableJobs(olderThanDays: number, limit: number): Sql {
  return {
    text: `SELECT job_id FROM managed_jobs WHERE status IN ('completed', 'failed', 'stopped')
      AND finished_at < ${NOW} - make_interval(days => $1::int) ORDER BY finished_at LIMIT $2`,
    values: [olderThanDays, limit],
  };
}

/**
 * Many NOTIFYs in one statement, delivered in array order (unnest yields rows in order, and a
 * transaction's notifications arrive in the order they were sent). Each payload must stay under
 * PostgreSQL's 8000 bytes.
 */
export function notifyMany(channel: string, payloads: string[]): Sql {
  return { text: `SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m`, values: [channel, payloads] };
}

export function filesOfJobs(jobIds: string[]): Sql {
  return {
    text: `SELECT * FROM managed_job_files WHERE job_id = ANY($1::uuid[]) AND deleted_at IS NULL`,
    values: [jobIds],
  };
}

/** The ledger has no foreign key (it would cost a lookup per run on the hot path): its rows go with their job here. */
export function pruneFinished(jobIds: string[], olderThanDays: number): Sql {
  return {
    text: `WITH del AS (
      DELETE FROM managed_jobs WHERE job_id = ANY($1::uuid[]) AND status IN ('completed', 'failed', 'stopped')
        AND finished_at < ${NOW} - make_interval(days => $2::int)
      RETURNING job_id
    ), ledger AS (DELETE FROM managed_job_attempts a USING del WHERE a.job_id = del.job_id)
    SELECT count(*)::int AS pruned FROM del`,
    values: [jobIds, olderThanDays],
  };
}

/** Session-level, so it is held across the statements of a run on one dedicated connection. */
export function tryAdvisoryLock(key: string): Sql {
  return { text: `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS acquired`, values: [key] };
}

export function advisoryUnlock(key: string): Sql {
  return { text: `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, values: [key] };
}

/** A stopped run's late return value, for that run only: same fence, still stopped, no result yet. */
export function keepStoppedResult(run: RunRef, result: string): Sql {
  return {
    text: `UPDATE managed_jobs SET result = $3::jsonb, updated_at = ${NOW}
      WHERE job_id = $1 AND fence = $2 AND status = 'stopped' AND result IS NULL`,
    values: [run.jobId, run.fence, result],
  };
}
