/**
 * SQLite statements of the schedules (see the PostgreSQL builder for what each one does). Times
 * are stored as UTC text 'YYYY-MM-DD HH:MM:SS.mmm', which compares in time order.
 */
import type { OnceRowInput, ScheduleRowInput, ScheduleSql } from './schedule-sql.interface.js';

const NOW = `strftime('%Y-%m-%d %H:%M:%f', 'now')`;
const COLUMNS = `name, kind, cron, timezone, job_type, payload, owner_user_id, owner_tenant_id, enabled, catch_up, overlap,
  next_run_at, last_run_at, last_job_id`;
const TABLE = 'managed_job_schedules';
const flag = (value: boolean | null) => (value === null ? null : value ? 1 : 0);

export const sqliteScheduleSql: ScheduleSql = {
  nextDue: () => ({ text: `SELECT min(next_run_at) AS next_at, ${NOW} AS db_now FROM ${TABLE} WHERE enabled`, values: [] }),

  due: (limit) => ({
    text: `SELECT ${COLUMNS}, ${NOW} AS db_now FROM ${TABLE} WHERE enabled AND next_run_at <= ${NOW} ORDER BY next_run_at LIMIT ?`,
    values: [limit],
  }),

  advance: (name, due, next, lastRunAt) => ({
    text: `UPDATE ${TABLE} SET next_run_at = ?, last_run_at = COALESCE(?, last_run_at), updated_at = ${NOW}
      WHERE name = ? AND next_run_at = ? AND enabled RETURNING name`,
    values: [next, lastRunAt, name, due],
  }),

  setLastJob: (name, jobId, stamp) => ({
    text: `UPDATE ${TABLE} SET last_job_id = ?, last_run_at = CASE WHEN ? THEN ${NOW} ELSE last_run_at END, updated_at = ${NOW}
      WHERE name = ? RETURNING name`,
    values: [jobId, flag(stamp), name],
  }),

  upsert: (r: ScheduleRowInput) => {
    const enabled = flag(r.enabled);
    return {
      text: `INSERT INTO ${TABLE} (name, kind, cron, timezone, job_type, payload, owner_user_id, owner_tenant_id, enabled,
          catch_up, overlap, next_run_at, declared, created_at, updated_at)
        VALUES (?, 'cron', ?, ?, ?, ?, ?, ?, COALESCE(?, 1), ?, ?, CASE WHEN COALESCE(?, 1) THEN ? END, ?, ${NOW}, ${NOW})
        ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, job_type = excluded.job_type,
          payload = excluded.payload, owner_user_id = excluded.owner_user_id, owner_tenant_id = excluded.owner_tenant_id,
          catch_up = excluded.catch_up, overlap = excluded.overlap, declared = (${TABLE}.declared OR excluded.declared),
          next_run_at = CASE
            WHEN NOT COALESCE(?, ${TABLE}.enabled) THEN NULL
            WHEN ${TABLE}.enabled AND ${TABLE}.next_run_at IS NOT NULL AND ${TABLE}.cron = excluded.cron
              AND ${TABLE}.timezone = excluded.timezone THEN ${TABLE}.next_run_at
            ELSE ? END,
          enabled = COALESCE(?, ${TABLE}.enabled),
          updated_at = ${NOW}
        WHERE ${TABLE}.kind = 'cron'
        RETURNING ${COLUMNS}`,
      values: [
        r.name, r.cron, r.timezone, r.jobType, r.payload, r.ownerUserId, r.ownerTenantId, enabled, r.catchUp, r.overlap,
        enabled, r.nextRunAt, flag(r.declared),
        enabled, r.nextRunAt, enabled,
      ],
    };
  },

  insertOnce: (r: OnceRowInput) => ({
    text: `INSERT INTO ${TABLE} (name, kind, timezone, job_type, payload, owner_user_id, owner_tenant_id, enabled, next_run_at,
        declared, created_at, updated_at)
      VALUES (?, 'once', 'UTC', ?, ?, ?, ?, 0, ?, 0, ${NOW}, ${NOW})
      ON CONFLICT (name) DO NOTHING RETURNING name`,
    values: [r.name, r.jobType, r.payload, r.ownerUserId, r.ownerTenantId, r.at],
  }),

  find: (name) => ({ text: `SELECT ${COLUMNS} FROM ${TABLE} WHERE name = ?`, values: [name] }),

  list: () => ({ text: `SELECT ${COLUMNS} FROM ${TABLE} WHERE kind = 'cron' ORDER BY name`, values: [] }),

  remove: (name) => ({ text: `DELETE FROM ${TABLE} WHERE name = ? RETURNING name`, values: [name] }),

  deleteOnce: (name, jobId) => ({
    text: `DELETE FROM ${TABLE} WHERE name = ? AND kind = 'once' AND last_job_id IS ? RETURNING name`,
    values: [name, jobId],
  }),

  enable: (name, next) => ({
    text: `UPDATE ${TABLE} SET next_run_at = CASE WHEN enabled AND next_run_at IS NOT NULL THEN next_run_at ELSE ? END,
        enabled = 1, updated_at = ${NOW}
      WHERE name = ? AND kind = 'cron' RETURNING ${COLUMNS}`,
    values: [next, name],
  }),

  disable: (name) => ({
    text: `UPDATE ${TABLE} SET enabled = 0, next_run_at = NULL, updated_at = ${NOW} WHERE name = ? AND kind = 'cron' RETURNING ${COLUMNS}`,
    values: [name],
  }),

  declared: () => ({ text: `SELECT name, job_type FROM ${TABLE} WHERE declared AND kind = 'cron'`, values: [] }),
};
