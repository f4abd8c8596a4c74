/** Owner/tenant scope and job listing (PostgreSQL). */
import type { ListFilter, ScopeFilter } from '../job-store.interface.js';
import type { Sql } from './common.sql.js';

export function scopeWhere(scope: ScopeFilter | undefined, values: unknown[], alias = ''): string {
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
