/**
 * PostgreSQL statements of the schedules. Times are `timestamp` columns holding UTC, sent and read
 * as text: through TypeORM's pool the driver would read a `timestamp` as local time.
 */
import type { OnceRowInput, ScheduleRowInput, ScheduleSql, Sql } from './schedule-sql.interface.js';

const NOW = `timezone('UTC', now())`;
const COLUMNS = `name, kind, cron, timezone, job_type, payload, owner_user_id, owner_tenant_id, enabled, catch_up, overlap,
  next_run_at::text AS next_run_at, last_run_at::text AS last_run_at, last_job_id::text AS last_job_id`;
const TABLE = 'managed_job_schedules';

export const postgresScheduleSql: ScheduleSql = {
  nextDue: (): Sql => ({
    text: `SELECT min(next_run_at)::text AS next_at, ${NOW}::text AS db_now FROM ${TABLE} WHERE enabled`,
    values: [],
  }),

  due: (limit) => ({
    text: `SELECT ${COLUMNS}, ${NOW}::text AS db_now FROM ${TABLE} WHERE enabled AND next_run_at <= ${NOW} ORDER BY next_run_at LIMIT $1`,
    values: [limit],
  }),

  advance: (name, due, next, lastRunAt) => ({
    text: `UPDATE ${TABLE} SET next_run_at = $3::timestamp, last_run_at = COALESCE($4::timestamp, last_run_at), updated_at = ${NOW}
      WHERE name = $1 AND next_run_at = $2::timestamp AND enabled RETURNING name`,
    values: [name, due, next, lastRunAt],
  }),

  setLastJob: (name, jobId, stamp) => ({
    text: `UPDATE ${TABLE} SET last_job_id = $2::uuid, last_run_at = CASE WHEN $3 THEN ${NOW} ELSE last_run_at END, updated_at = ${NOW}
      WHERE name = $1 RETURNING name`,
    values: [name, jobId, stamp],
  }),

  upsert: (r: ScheduleRowInput) => ({
    // A deploy that re-declares an unchanged schedule keeps its next_run_at (or catch-up could
    // never see what a restart missed); a new cron or time zone, or enabling it, starts from now.
    text: `INSERT INTO ${TABLE} AS s (name, kind, cron, timezone, job_type, payload, owner_user_id, owner_tenant_id, enabled,
        catch_up, overlap, next_run_at, declared, created_at, updated_at)
      VALUES ($1, 'cron', $2, $3, $4, $5::jsonb, $6, $7, COALESCE($8::boolean, true), $9, $10,
        CASE WHEN COALESCE($8::boolean, true) THEN $11::timestamp END, $12, ${NOW}, ${NOW})
      ON CONFLICT (name) DO UPDATE SET cron = EXCLUDED.cron, timezone = EXCLUDED.timezone, job_type = EXCLUDED.job_type,
        payload = EXCLUDED.payload, owner_user_id = EXCLUDED.owner_user_id, owner_tenant_id = EXCLUDED.owner_tenant_id,
        catch_up = EXCLUDED.catch_up, overlap = EXCLUDED.overlap, declared = s.declared OR EXCLUDED.declared,
        enabled = COALESCE($8::boolean, s.enabled),
        next_run_at = CASE
          WHEN NOT COALESCE($8::boolean, s.enabled) THEN NULL
          WHEN s.enabled AND s.next_run_at IS NOT NULL AND s.cron = EXCLUDED.cron AND s.timezone = EXCLUDED.timezone THEN s.next_run_at
          ELSE $11::timestamp END,
        updated_at = ${NOW}
      WHERE s.kind = 'cron'
      RETURNING ${COLUMNS}`,
    values: [r.name, r.cron, r.timezone, r.jobType, r.payload, r.ownerUserId, r.ownerTenantId, r.enabled, r.catchUp, r.overlap, r.nextRunAt, r.declared],
  }),

  insertOnce: (r: OnceRowInput) => ({
    text: `INSERT INTO ${TABLE} (name, kind, timezone, job_type, payload, owner_user_id, owner_tenant_id, enabled, next_run_at,
        declared, created_at, updated_at)
      VALUES ($1, 'once', 'UTC', $2, $3::jsonb, $4, $5, false, $6::timestamp, false, ${NOW}, ${NOW})
      ON CONFLICT (name) DO NOTHING RETURNING name`,
    values: [r.name, r.jobType, r.payload, r.ownerUserId, r.ownerTenantId, r.at],
  }),

  find: (name) => ({ text: `SELECT ${COLUMNS} FROM ${TABLE} WHERE name = $1`, values: [name] }),

  list: () => ({ text: `SELECT ${COLUMNS} FROM ${TABLE} WHERE kind = 'cron' ORDER BY name`, values: [] }),

  remove: (name) => ({ text: `DELETE FROM ${TABLE} WHERE name = $1 RETURNING name`, values: [name] }),

  deleteOnce: (name, jobId) => ({
    text: `DELETE FROM ${TABLE} WHERE name = $1 AND kind = 'once' AND last_job_id IS NOT DISTINCT FROM $2::uuid RETURNING name`,
    values: [name, jobId],
  }),

  enable: (name, next) => ({
    text: `UPDATE ${TABLE} SET next_run_at = CASE WHEN enabled AND next_run_at IS NOT NULL THEN next_run_at ELSE $2::timestamp END,
        enabled = true, updated_at = ${NOW}
      WHERE name = $1 AND kind = 'cron' RETURNING ${COLUMNS}`,
    values: [name, next],
  }),

  disable: (name) => ({
    text: `UPDATE ${TABLE} SET enabled = false, next_run_at = NULL, updated_at = ${NOW} WHERE name = $1 AND kind = 'cron' RETURNING ${COLUMNS}`,
    values: [name],
  }),

  declared: () => ({ text: `SELECT name, job_type FROM ${TABLE} WHERE declared AND kind = 'cron'`, values: [] }),
};
