/**
 * MySQL/MariaDB statements of the schedules (see the PostgreSQL builder for what each one does).
 * No `UPDATE … RETURNING` here: a write that must return rows carries its read-back in `then`,
 * which `ScheduleStore` runs on the same connection (the caller's transaction) when the write
 * matched a row. Times are read as UTC text and JSON as text, as the other builders return them.
 */
import type { OnceRowInput, ScheduleRowInput, ScheduleSql, Sql } from './schedule-sql.interface.js';

const NOW = `UTC_TIMESTAMP(3)`;
const text = (column: string) => `CAST(${column} AS CHAR) AS ${column}`;
const COLUMNS = `name, kind, cron, timezone, job_type, ${text('payload')}, owner_user_id, owner_tenant_id, enabled, catch_up, overlap,
  ${text('next_run_at')}, ${text('last_run_at')}, ${text('last_job_id')}`;
const TABLE = 'managed_job_schedules';
const flag = (value: boolean | null) => (value === null ? null : value ? 1 : 0);
const byName = (name: string, columns = COLUMNS): Sql => ({ text: `SELECT ${columns} FROM ${TABLE} WHERE name = ?`, values: [name] });
const write = (q: Sql, then: Sql): Sql => ({ ...q, then });

export const mysqlScheduleSql: ScheduleSql = {
  nextDue: () => ({ text: `SELECT CAST(min(next_run_at) AS CHAR) AS next_at, CAST(${NOW} AS CHAR) AS db_now FROM ${TABLE} WHERE enabled = 1`, values: [] }),

  due: (limit) => ({
    text: `SELECT ${COLUMNS}, CAST(${NOW} AS CHAR) AS db_now FROM ${TABLE} WHERE enabled = 1 AND next_run_at <= ${NOW} ORDER BY next_run_at LIMIT ?`,
    values: [limit],
  }),

  advance: (name, due, next, lastRunAt) =>
    write(
      {
        text: `UPDATE ${TABLE} SET next_run_at = ?, last_run_at = COALESCE(?, last_run_at), updated_at = ${NOW}
          WHERE name = ? AND next_run_at = ? AND enabled = 1`,
        values: [next, lastRunAt, name, due],
      },
      byName(name, 'name'),
    ),

  setLastJob: (name, jobId, stamp) =>
    write(
      {
        text: `UPDATE ${TABLE} SET last_job_id = ?, last_run_at = IF(?, ${NOW}, last_run_at), updated_at = ${NOW} WHERE name = ?`,
        values: [jobId, flag(stamp), name],
      },
      byName(name, 'name'),
    ),

  upsert: (r: ScheduleRowInput) => {
    const enabled = flag(r.enabled);
    // MySQL evaluates the SET list left to right: `next_run_at` reads the old `enabled`, `cron`, `timezone`,
    // so it comes before them, and `enabled` last. A 'once' row of that name is left alone (`kind`).
    const keep = (column: string) => `IF(kind = 'cron', VALUES(${column}), ${column})`;
    return write(
      {
        text: `INSERT INTO ${TABLE} (name, kind, cron, timezone, job_type, payload, owner_user_id, owner_tenant_id, enabled,
            catch_up, overlap, next_run_at, declared, created_at, updated_at)
          VALUES (?, 'cron', ?, ?, ?, ?, ?, ?, COALESCE(?, 1), ?, ?, IF(COALESCE(?, 1), ?, NULL), ?, ${NOW}, ${NOW})
          ON DUPLICATE KEY UPDATE
            next_run_at = IF(kind <> 'cron', next_run_at, CASE
              WHEN NOT COALESCE(?, enabled) THEN NULL
              WHEN enabled AND next_run_at IS NOT NULL AND cron = VALUES(cron) AND timezone = VALUES(timezone) THEN next_run_at
              ELSE ? END),
            cron = ${keep('cron')}, timezone = ${keep('timezone')}, job_type = ${keep('job_type')}, payload = ${keep('payload')},
            owner_user_id = ${keep('owner_user_id')}, owner_tenant_id = ${keep('owner_tenant_id')}, catch_up = ${keep('catch_up')},
            overlap = ${keep('overlap')}, declared = IF(kind = 'cron', declared OR VALUES(declared), declared),
            updated_at = IF(kind = 'cron', ${NOW}, updated_at),
            enabled = IF(kind = 'cron', COALESCE(?, enabled), enabled)`,
        values: [
          r.name, r.cron, r.timezone, r.jobType, r.payload, r.ownerUserId, r.ownerTenantId, enabled, r.catchUp, r.overlap,
          enabled, r.nextRunAt, flag(r.declared),
          enabled, r.nextRunAt, enabled,
        ],
      },
      { text: `SELECT ${COLUMNS} FROM ${TABLE} WHERE name = ? AND kind = 'cron'`, values: [r.name] },
    );
  },

  insertOnce: (r: OnceRowInput) =>
    write(
      {
        text: `INSERT IGNORE INTO ${TABLE} (name, kind, timezone, job_type, payload, owner_user_id, owner_tenant_id, enabled, next_run_at,
            declared, created_at, updated_at)
          VALUES (?, 'once', 'UTC', ?, ?, ?, ?, 0, ?, 0, ${NOW}, ${NOW})`,
        values: [r.name, r.jobType, r.payload, r.ownerUserId, r.ownerTenantId, r.at],
      },
      byName(r.name, 'name'),
    ),

  find: (name) => byName(name),

  list: () => ({ text: `SELECT ${COLUMNS} FROM ${TABLE} WHERE kind = 'cron' ORDER BY name`, values: [] }),

  remove: (name) => ({ text: `DELETE FROM ${TABLE} WHERE name = ?`, values: [name] }),

  deleteOnce: (name, jobId) => ({ text: `DELETE FROM ${TABLE} WHERE name = ? AND kind = 'once' AND last_job_id <=> ?`, values: [name, jobId] }),

  enable: (name, next) =>
    write(
      {
        text: `UPDATE ${TABLE} SET next_run_at = IF(enabled AND next_run_at IS NOT NULL, next_run_at, ?), enabled = 1, updated_at = ${NOW}
          WHERE name = ? AND kind = 'cron'`,
        values: [next, name],
      },
      byName(name),
    ),

  disable: (name) =>
    write(
      { text: `UPDATE ${TABLE} SET enabled = 0, next_run_at = NULL, updated_at = ${NOW} WHERE name = ? AND kind = 'cron'`, values: [name] },
      byName(name),
    ),

  declared: () => ({ text: `SELECT name, job_type FROM ${TABLE} WHERE declared = 1 AND kind = 'cron'`, values: [] }),
};
