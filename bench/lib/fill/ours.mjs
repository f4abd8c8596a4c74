/**
 * Fills our tables fast with finished jobs as the engine writes them, for the scale and prune
 * scenarios: no million runs, one `INSERT … SELECT` per 50,000 rows in the dialect's own SQL.
 *
 * Realistic by construction: every row is a copy of a job the engine itself ran to completion (the
 * template: every column, including those other migrations add later, is taken from it), with what
 * differs between jobs replaced: a UUIDv7 id whose time is its creation time (so ids sort by age
 * as the engine's do), 90% completed / 8% failed / 2% stopped, created/started/finished times spread
 * evenly over `[fromMs, toMs]`, owners spread over `owners` owners in 100 tenants, a payload of its
 * own, and one ledger row (managed_job_attempts) per job, as the statement that ends a run writes.
 */

const CHUNK = 50_000;

/** The smallest UUIDv7 of millisecond `ms` (a bound for `job_id` ranges). */
export const idFloor = (ms) => {
  const h = Math.floor(ms).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8)}-7000-8000-000000000000`;
};

/** Column → SQL expression over `g.i` (1-based row number) and `t.*` (the template row). */
function overrides(dialect, { fromMs, stepMs, owners }) {
  const pg = dialect === 'postgres';
  const ms = pg ? `(${fromMs}::bigint + (g.i::bigint - 1) * ${stepMs})` : `(${fromMs} + (g.i - 1) * ${stepMs})`;
  const at = (plus) => (pg ? `(to_timestamp((${ms} + ${plus}) / 1000.0) AT TIME ZONE 'UTC')` : `strftime('%Y-%m-%d %H:%M:%f', (${ms} + ${plus}) / 1000.0, 'unixepoch')`);
  const hex = pg ? `lpad(to_hex(${ms}::bigint), 12, '0')` : `printf('%012x', ${ms})`;
  const rnd = pg ? `md5(g.i::text || 'bench')` : `lower(hex(randomblob(9)))`;
  const cat = (...parts) => parts.join(' || ');
  const sub = (s, from, n) => `substr(${s}, ${from}, ${n})`;
  const id = cat(sub(hex, 1, 8), `'-'`, sub(hex, 9, 4), `'-7'`, sub(rnd, 1, 3), `'-8'`, sub(rnd, 4, 3), `'-'`, sub(rnd, 7, 12));
  const status = `CASE WHEN g.i % 50 < 45 THEN 'completed' WHEN g.i % 50 < 49 THEN 'failed' ELSE 'stopped' END`;
  return {
    job_id: pg ? `(${id})::uuid` : id,
    status,
    payload: pg ? `jsonb_build_object('i', g.i)` : `json_object('i', g.i)`,
    owner_user_id: `'user-' || (g.i % ${owners})`,
    owner_tenant_id: `'tenant-' || (g.i % 100)`,
    failed_reason: `CASE WHEN g.i % 50 BETWEEN 45 AND 48 THEN 'Error: bench failure' ELSE NULL END`,
    available_at: at(0),
    created_at: at(0),
    started_at: at(3),
    finished_at: at(20),
    updated_at: at(20),
  };
}

const series = (dialect, n) =>
  dialect === 'postgres' ? `generate_series(1, ${n}) AS g(i)` : `g`;
const seriesCte = (dialect, n) => (dialect === 'postgres' ? '' : `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ${n}) `);

/**
 * Inserts `count` finished jobs (and their ledger rows) cloned from the finished job `templateId`.
 * `ds`: the TypeORM DataSource; `dialect`: 'postgres' | 'sqlite'. Returns the fill's duration, ms.
 */
export async function fillFinished(ds, dialect, { templateId, count, fromMs, toMs, owners }) {
  const t0 = performance.now();
  const p = (i) => (dialect === 'postgres' ? `$${i}` : '?');
  const [template] = await ds.query(`SELECT * FROM managed_jobs WHERE job_id = ${p(1)}`, [templateId]);
  if (!template) throw new Error(`fill: template job ${templateId} not found`);
  const columns = Object.keys(template);
  const stepMs = Math.max(1, Math.floor((toMs - fromMs) / count));
  const [run] = await ds.query(`SELECT * FROM managed_job_attempts WHERE job_id = ${p(1)}`, [templateId]);
  const workerId = run?.worker_id ?? 'bench-fill';
  for (let done = 0; done < count; done += CHUNK) {
    const n = Math.min(CHUNK, count - done);
    const chunkFrom = fromMs + done * stepMs;
    const o = overrides(dialect, { fromMs: chunkFrom, stepMs, owners });
    const exprs = columns.map((c) => o[c] ?? `t.${c}`);
    const list = columns.map((c) => `"${c}"`).join(', ');
    await ds.query(
      `${seriesCte(dialect, n)}INSERT INTO managed_jobs (${list}) SELECT ${exprs.join(', ')}
       FROM ${series(dialect, n)} CROSS JOIN (SELECT * FROM managed_jobs WHERE job_id = ${p(1)}) t`,
      [templateId],
    );
    // One ledger row per job, as the statement that ends a run writes it; the chunk's ids are one
    // primary-key range (UUIDv7: the time comes first).
    await ds.query(
      `INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome, error)
       SELECT job_id, fence, attempts, ${p(1)}, started_at, finished_at, status, failed_reason
       FROM managed_jobs WHERE job_id >= ${p(2)} AND job_id < ${p(3)}`,
      [workerId, idFloor(chunkFrom), idFloor(chunkFrom + n * stepMs)],
    );
  }
  // What autovacuum / a periodic ANALYZE would have done to a table that grew to this size.
  await ds.query('ANALYZE');
  return performance.now() - t0;
}

/**
 * `members` waiting workflow members, written by the engine itself (`jobRunner.batch()`, 10,000
 * per batch, the most one call takes): each batch has a gate member on a queue no worker serves,
 * and every other member depends on it, so they stay `waiting` (out of the claim index).
 */
export async function fillWaitingMembers(jobs, Job, { members, owners }) {
  const t0 = performance.now();
  for (let b = 0, left = members; left > 0; b++) {
    const size = Math.min(9_999, left);
    left -= size;
    const items = [{ job: Job, payload: { gate: b }, key: 'gate', queue: 'bench-gate' }];
    for (let i = 0; i < size; i++) items.push({ job: Job, payload: { b, i }, key: `m${i}`, dependsOn: ['gate'] });
    await jobs.batch(items, { ownerId: `user-${b % owners}`, failurePolicy: 'continue' });
  }
  return performance.now() - t0;
}
