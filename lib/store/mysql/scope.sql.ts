/** Owner/tenant scope and job listing (MySQL/MariaDB). */
import type { ListFilter, ScopeFilter } from '../job-store.interface.js';
import { JOB_COLUMNS, type Sql } from './common.sql.js';

/**
 * The scope as a condition: an owner pair (`<=>` matches a null tenant only to a null tenant), or
 * a whole tenant. One text per kind of scope, whatever the ids.
 */
export function scopeWhere(scope: ScopeFilter | undefined, values: unknown[]): string {
  if (!scope) return '';
  if (scope.ownerUserId !== null) {
    values.push(scope.ownerUserId, scope.ownerTenantId);
    return ` AND owner_user_id = ? AND owner_tenant_id <=> ?`;
  }
  values.push(scope.ownerTenantId);
  return ` AND owner_tenant_id = ?`;
}

export function listJobs(filter: ListFilter): { rows: Sql; count: Sql } {
  const values: unknown[] = [];
  let where = `WHERE 1 = 1${scopeWhere(filter.scope, values)}`;
  if (filter.anyTenantOfUser !== undefined) {
    where += ` AND owner_user_id = ?`;
    values.push(filter.anyTenantOfUser);
  }
  if (filter.statuses?.length) {
    // One JSON array parameter: the text is the same for any number of statuses.
    where += ` AND JSON_CONTAINS(?, JSON_QUOTE(status))`;
    values.push(JSON.stringify(filter.statuses));
  }
  if (filter.type) {
    where += ` AND type = ?`;
    values.push(filter.type);
  }
  if (filter.batchId) {
    where += ` AND batch_id = ?`;
    values.push(filter.batchId);
  }
  return {
    rows: { text: `SELECT ${JOB_COLUMNS} FROM managed_jobs ${where} ORDER BY job_id DESC LIMIT ? OFFSET ?`, values: [...values, filter.limit, filter.offset] },
    count: { text: `SELECT count(*) AS total FROM managed_jobs ${where}`, values },
  };
}

/** See the PostgreSQL builder of the same name. */
export function countActiveTriggered(owner: ScopeFilter & { ownerUserId: string }): Sql {
  const values: unknown[] = [];
  const where = scopeWhere(owner, values);
  return {
    text: `SELECT count(*) AS total FROM managed_jobs WHERE status IN ('pending', 'running') AND triggered_by_user_id = owner_user_id${where}`,
    values,
  };
}
