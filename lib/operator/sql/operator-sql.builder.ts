/**
 * The operator's statements, written once over what differs between dialects (`SqlDialect`):
 * placeholders, the clock, reading times and JSON as text, id lists, booleans and upserts. The
 * per-dialect files (`postgres.sql.ts`, `sqlite.sql.ts`, `mysql.sql.ts`) say those differences.
 */
import type { JobFilter, OperatorSql, Sql } from './operator-sql.interface.js';

export interface SqlDialect {
  /** The placeholder of the `n`th value (1-based). */
  param(n: number): string;
  /** The database clock, UTC. */
  now: string;
  /** A time column read as UTC text. */
  timeText(column: string): string;
  /** A JSON column read as text. */
  jsonText(column: string): string;
  /** An id column read as text. */
  idText(column: string): string;
  /** A time parameter (UTC text) as a time. */
  timeParam(placeholder: string): string;
  /** `now - ms` as a time. */
  minusMs(placeholder: string): string;
  /** The largest integer not above a number. */
  floor(expr: string): string;
  /** Milliseconds between two times (`later - earlier`). */
  diffMs(later: string, earlier: string): string;
  /** The smallest id of a group (PostgreSQL has no min() of a uuid). */
  minId(column: string): string;
  /** `column IN (ids)`: a text that depends at most on the count. */
  inIds(column: string, ids: string[], values: unknown[]): string;
  /** Case-insensitive LIKE, and what follows the pattern (SQLite names its escape character). */
  ilike: string;
  likeEscape: string;
  /** `INSERT … (cols) VALUES (…)` made an upsert on `key` that sets `updates` (column names). */
  upsert(insert: string, key: string, updates: string[]): string;
  /** `DELETE … WHERE column < (subquery)` needs the subquery wrapped (MySQL reads the table it deletes from). */
  wrapSelfSubquery(subquery: string): string;
  /**
   * `FROM managed_jobs` reading only the claim index (pending jobs): SQLite's planner, with
   * statistics, walked the primary key backwards through a million rows to skip a sort of a few
   * thousand (400 ms instead of 1 ms). Empty where the planner needs no hint.
   */
  pendingIndexHint: string;
}

/** Values with their placeholders, in order. */
class Params {
  readonly values: unknown[] = [];
  constructor(private readonly d: SqlDialect) {}
  add(value: unknown): string {
    this.values.push(value);
    return this.d.param(this.values.length);
  }
}

/** The rows of the partial index `idx_managed_jobs_failed` (the ended-counts migration): the ends an operator looks for. */
const FAILED: readonly string[] = ['failed', 'stopped'];
const FAILED_CONDITION = `status IN (${FAILED.map((status) => `'${status}'`).join(', ')})`;

export function operatorSql(d: SqlDialect): OperatorSql {
  const t = d.timeText;
  const jobColumns = `${d.idText('job_id')} AS job_id, type, queue, status, priority, ${d.jsonText('payload')} AS payload,
    ${d.jsonText('state')} AS state, ${d.jsonText('result')} AS result, progress_percentage, progress_message, owner_user_id, owner_tenant_id,
    triggered_by_user_id, attempts, max_attempts, idempotent, ${t('available_at')} AS available_at, lease_owner,
    ${t('lease_expires_at')} AS lease_expires_at, fence, failed_reason, ${t('started_at')} AS started_at, ${t('finished_at')} AS finished_at,
    ${t('created_at')} AS created_at, ${t('updated_at')} AS updated_at, ${d.idText('batch_id')} AS batch_id, batch_key,
    ${d.idText('callback_batch_id')} AS callback_batch_id`;

  const where = (f: JobFilter, p: Params): string => {
    const parts: string[] = [];
    if (f.jobIds) parts.push(d.inIds('job_id', f.jobIds, p.values));
    if (f.statuses?.length) {
      parts.push(`status IN (${f.statuses.map((s) => p.add(s)).join(', ')})`);
      // Repeats the partial index's own condition, which is how SQLite (and any planner) knows it applies.
      if (f.statuses.every((s) => FAILED.includes(s))) parts.push(FAILED_CONDITION);
      if (f.statuses.length === 1 && f.statuses[0] === 'pending') parts.push(`status = 'pending'`); // the claim index's condition
    }
    if (f.queue !== undefined) parts.push(`queue = ${p.add(f.queue)}`);
    if (f.type !== undefined) parts.push(`type = ${p.add(f.type)}`);
    if (f.batchId !== undefined) parts.push(`batch_id = ${p.add(f.batchId)}`);
    if (f.ownerId !== undefined) parts.push(`owner_user_id = ${p.add(f.ownerId)}`);
    if (f.tenantId !== undefined) parts.push(`owner_tenant_id = ${p.add(f.tenantId)}`);
    if (f.createdFrom !== undefined) parts.push(`created_at >= ${d.timeParam(p.add(f.createdFrom))}`);
    if (f.createdTo !== undefined) parts.push(`created_at < ${d.timeParam(p.add(f.createdTo))}`);
    if (f.finishedBefore !== undefined) parts.push(`finished_at < ${d.timeParam(p.add(f.finishedBefore))}`);
    if (f.search !== undefined) {
      // A placeholder per use: `?` takes one value each time it appears.
      const pattern = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const matches = (column: string) => `${column} ${d.ilike} ${p.add(pattern)}${d.likeEscape}`;
      parts.push(`(${d.idText('job_id')} = ${p.add(f.search)} OR ${matches('type')} OR ${matches('failed_reason')} OR ${matches('progress_message')})`);
    }
    return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
  };

  /** The job of this row no longer exists (its ledger and log rows have no foreign key). */
  const gone = (table: string) => `NOT EXISTS (SELECT 1 FROM managed_jobs j WHERE j.job_id = ${table}.job_id)`;

  // Ordered by the table's column, never by the text alias of the select list (PostgreSQL would
  // sort a million ids as text instead of reading the index in order: 2.9 s instead of 1 ms).
  const build = (fn: (p: Params) => string): Sql => {
    const p = new Params(d);
    const text = fn(p);
    return { text, values: p.values };
  };

  return {
    // The oldest of each queue by id (ids grow with creation) from one pass over the claim index,
    // then those few rows: `ORDER BY job_id LIMIT 1` per queue walked the primary key from the
    // oldest job on, through every ended one, when the pending jobs were the newest (as in a real
    // queue): 560 ms of stats() at 1,000,000 jobs on PostgreSQL.
    oldestPending: () => ({
      text: `SELECT queue, ${d.diffMs(d.now, 'created_at')} AS age_ms FROM managed_jobs
        WHERE job_id IN (SELECT ${d.minId('job_id')} FROM managed_jobs ${d.pendingIndexHint} WHERE status = 'pending' GROUP BY queue)`,
      values: [],
    }),
    queueSwitches: () => ({ text: `SELECT queue, paused FROM managed_job_queues`, values: [] }),
    setPaused: (queue, paused) =>
      build((p) =>
        d.upsert(`INSERT INTO managed_job_queues (queue, paused, updated_at) VALUES (${p.add(queue)}, ${p.add(paused ? 1 : 0)}, ${d.now})`, 'queue', [
          'paused',
          'updated_at',
        ]),
      ),
    listJobs: (f, limit, offset) =>
      build((p) => {
        const hint = f.statuses?.length === 1 && f.statuses[0] === 'pending' ? d.pendingIndexHint : '';
        return `SELECT ${jobColumns} FROM managed_jobs ${hint} ${where(f, p)} ORDER BY managed_jobs.job_id DESC LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`;
      }),
    countJobs: (f) => build((p) => `SELECT count(*) AS total FROM managed_jobs ${where(f, p)}`),
    finishedPerMinute: (minutes) =>
      build(
        (p) => `SELECT ${d.floor(`${d.diffMs(d.now, 'finished_at')} / 60000`)} AS minute_ago, status, count(*) AS n FROM managed_jobs
          WHERE finished_at >= ${d.minusMs(p.add(minutes * 60_000))} AND status IN ('completed', 'failed') GROUP BY minute_ago, status`,
      ),
    jobIds: (f, limit) => build((p) => `SELECT ${d.idText('job_id')} AS job_id, type FROM managed_jobs ${where(f, p)} ORDER BY managed_jobs.job_id LIMIT ${p.add(limit)}`),
    deleteLogs: (ids) => build((p) => `DELETE FROM managed_job_logs WHERE ${d.inIds('job_id', ids, p.values)} AND ${gone('managed_job_logs')}`),
    busy: (queues) =>
      build(
        (p) => `SELECT count(*) AS n FROM managed_jobs WHERE queue IN (${queues.map((q) => p.add(q)).join(', ')})
          AND ((lease_expires_at IS NOT NULL AND status = 'running') OR (status = 'pending' AND available_at <= ${d.now}))`,
      ),
    attempts: (jobId) =>
      build(
        (p) => `SELECT fence, attempt, worker_id, ${t('started_at')} AS started_at, ${t('finished_at')} AS finished_at, outcome, error
          FROM managed_job_attempts WHERE job_id = ${p.add(jobId)} ORDER BY fence`,
      ),
    steps: (jobId) =>
      build(
        (p) => `SELECT name, ${d.jsonText('result')} AS result, ${t('completed_at')} AS completed_at
          FROM managed_job_steps WHERE job_id = ${p.add(jobId)} ORDER BY completed_at, name`,
      ),
    logs: (jobId) =>
      build(
        (p) => `SELECT ${t('at')} AS at, level, message, ${d.jsonText('data')} AS data
          FROM managed_job_logs WHERE job_id = ${p.add(jobId)} ORDER BY log_id`,
      ),
    insertLogs: (lines) =>
      build(
        (p) =>
          `INSERT INTO managed_job_logs (log_id, job_id, at, level, message, data) VALUES ` +
          lines
            .map((l) => `(${p.add(l.logId)}, ${p.add(l.jobId)}, ${d.timeParam(p.add(l.at))}, ${p.add(l.level)}, ${p.add(l.message)}, ${p.add(l.data)})`)
            .join(', '),
      ),
    trimLogs: (jobId, keep) =>
      build((p) => {
        const job = p.add(jobId);
        const cut = `SELECT log_id FROM managed_job_logs WHERE job_id = ${p.add(jobId)} ORDER BY log_id DESC LIMIT 1 OFFSET ${p.add(keep - 1)}`;
        return `DELETE FROM managed_job_logs WHERE job_id = ${job} AND log_id < (${d.wrapSelfSubquery(cut)})`;
      }),
    upsertWorker: (w) =>
      build((p) =>
        d.upsert(
          `INSERT INTO managed_job_workers (worker_id, hostname, pid, queues, concurrency, running, started_at, last_seen_at)
            VALUES (${p.add(w.workerId)}, ${p.add(w.hostname)}, ${p.add(w.pid)}, ${p.add(JSON.stringify(w.queues))}, ${p.add(w.concurrency)},
            ${p.add(w.running)}, ${d.now}, ${d.now})`,
          'worker_id',
          ['running', 'last_seen_at'],
        ),
      ),
    deleteStaleWorkers: (staleMs) => build((p) => `DELETE FROM managed_job_workers WHERE last_seen_at < ${d.minusMs(p.add(staleMs))}`),
    deleteWorker: (workerId) => build((p) => `DELETE FROM managed_job_workers WHERE worker_id = ${p.add(workerId)}`),
    liveWorkers: (staleMs) =>
      build(
        (p) => `SELECT worker_id, hostname, pid, ${d.jsonText('queues')} AS queues, concurrency, running,
          ${t('started_at')} AS started_at, ${t('last_seen_at')} AS last_seen_at
          FROM managed_job_workers WHERE last_seen_at >= ${d.minusMs(p.add(staleMs))} ORDER BY started_at, worker_id`,
      ),
    countLiveWorkers: (staleMs) => build((p) => `SELECT count(*) AS n FROM managed_job_workers WHERE last_seen_at >= ${d.minusMs(p.add(staleMs))}`),
    insertAudit: (a) =>
      build(
        (p) => `INSERT INTO managed_job_audit (audit_id, at, actor, action, target, reason, count)
          VALUES (${p.add(a.auditId)}, ${d.now}, ${p.add(a.actor)}, ${p.add(a.action)}, ${p.add(a.target)}, ${p.add(a.reason)}, ${p.add(a.count)})`,
      ),
    listAudit: (limit, offset) =>
      build(
        (p) => `SELECT ${t('at')} AS at, actor, action, target, reason, count FROM managed_job_audit
          ORDER BY audit_id DESC LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`,
      ),
    countAudit: () => ({ text: `SELECT count(*) AS total FROM managed_job_audit`, values: [] }),
  };
}
