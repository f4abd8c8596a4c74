/** Owner/tenant scope and job listing (PostgreSQL). */
import type { ListFilter, ScopeFilter } from '../job-store.interface.js';
import type { Sql } from './common.sql.js';

/**
 * The scope as a condition: an owner pair (a null tenant matches only jobs without one), or a
 * whole tenant. One text per kind of scope, whatever the ids.
 */
export function scopeWhere(scope: ScopeFilter | undefined, values: unknown[]): string {
  if (!scope) return '';
  if (scope.ownerUserId !== null) {
    values.push(scope.ownerUserId, scope.ownerTenantId);
    return ` AND owner_user_id = $${values.length - 1} AND owner_tenant_id IS NOT DISTINCT FROM $${values.length}::text`;
  }
  values.push(scope.ownerTenantId);
  return ` AND owner_tenant_id = $${values.length}`;
}

export function listJobs(filter: ListFilter): { rows: Sql; count: Sql } {
  const values: unknown[] = [];
  let where = `WHERE true${scopeWhere(filter.scope, values)}`;
  if (filter.anyTenantOfUser !== undefined) {
    values.push(filter.anyTenantOfUser);
    where += ` AND owner_user_id = $${values.length}`;
  }
  if (filter.statuses?.length) {
    values.push(filter.statuses);
    where += ` AND status = ANY($${values.length}::text[])`;
  }
  if (filter.type) {
    values.push(filter.type);
    where += ` AND type = $${values.length}`;
  }
  if (filter.batchId) {
    values.push(filter.batchId);
    where += ` AND batch_id = $${values.length}::uuid`;
  }
  return {
    rows: {
      text: `SELECT * FROM managed_jobs ${where} ORDER BY job_id DESC LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
      values: [...values, filter.limit, filter.offset],
    },
    count: { text: `SELECT count(*)::int AS total FROM managed_jobs ${where}`, values },
  };
}

/** W5's fairness limit: what an owner has dispatched itself and is not finished yet. */
export function countActiveTriggered(owner: ScopeFilter & { ownerUserId: string }): Sql {
  const values: unknown[] = [];
  const where = scopeWhere(owner, values);
  return {
    text: `SELECT count(*)::int AS total FROM managed_jobs
      WHERE status IN ('pending', 'running') AND triggered_by_user_id = owner_user_id${where}`,
    values,
  };
}
