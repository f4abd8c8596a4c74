/** Owner/tenant scope and job listing (SQLite). */
import type { ListFilter, ScopeFilter } from '../job-store.interface.js';
import type { Sql } from './common.sql.js';

export function scopeWhere(scope: ScopeFilter | undefined, values: unknown[]): string {
  let sql = '';
  if (scope?.ownerUserId != null) {
    values.push(scope.ownerUserId);
    sql += ` AND owner_user_id = ?`;
  }
  if (scope?.ownerTenantId != null) {
    values.push(scope.ownerTenantId);
    sql += ` AND owner_tenant_id = ?`;
  }
  return sql;
}

export function listJobs(filter: ListFilter): { rows: Sql; count: Sql } {
  const values: unknown[] = [];
  let where = `WHERE 1 = 1${scopeWhere({ ownerUserId: filter.ownerUserId ?? null, ownerTenantId: filter.ownerTenantId ?? null }, values)}`;
  if (filter.statuses?.length) {
    where += ` AND status IN (${filter.statuses.map(() => '?').join(', ')})`;
    values.push(...filter.statuses);
  }
  if (filter.type) {
    where += ` AND type = ?`;
    values.push(filter.type);
  }
  return {
    rows: { text: `SELECT * FROM managed_jobs ${where} ORDER BY job_id DESC LIMIT ? OFFSET ?`, values: [...values, filter.limit, filter.offset] },
    count: { text: `SELECT count(*) AS total FROM managed_jobs ${where}`, values },
  };
}
