/**
 * Owners, scopes and job ids: how a call names whose jobs it may see.
 *
 * An owner is the pair (user id, tenant id). A user scope matches both halves, so an owner
 * without a tenant sees only jobs without a tenant, and (`u7`, `acme`) never sees (`u7`, `beta`)'s
 * jobs. A tenant scope (a tenant id without a user) sees every job of that tenant.
 */
import { ManagedJobsError } from '../errors/managed-jobs.errors.js';
import { SCOPE_WITHOUT_ID } from '../managed-jobs.messages.js';
import type { JobOwnerLike, JobScope, OwnerRef } from '../interfaces/job-owner.interface.js';
import { ownerIdsOf } from '../owners/owner-ref.js';
import type { ScopeFilter } from '../store/job-store.interface.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Job ids are UUIDs; anything else cannot exist (and must not reach a `uuid` column). */
export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

function idOf(value: string | number | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : String(value);
}

/** The stored ids of an owner given as a `JobOwner`, a `{ id, tenantId }` object, or plain ids. */
export function ownerIds(ref: OwnerRef | undefined): { ownerUserId: string | null; ownerTenantId: string | null } {
  if (ref?.owner) {
    const ids = ownerIdsOf(ref.owner);
    return { ownerUserId: ids?.userId ?? null, ownerTenantId: ids?.tenantId ?? null };
  }
  return { ownerUserId: idOf(ref?.ownerId), ownerTenantId: idOf(ref?.tenantId) };
}

/**
 * The store filter of a scope: the owner pair when a user is named, the tenant alone when only a
 * tenant is. A scope that names neither is no scope (an admin or system call).
 */
export function scopeFilter(scope: JobScope | undefined): ScopeFilter | undefined {
  if (!scope || !(scope.owner || scope.ownerId != null || scope.tenantId != null)) return undefined;
  const { ownerUserId, ownerTenantId } = ownerIds(scope);
  if (ownerUserId !== null) return { ownerUserId, ownerTenantId };
  if (ownerTenantId !== null) return { ownerUserId: null, ownerTenantId };
  throw new ManagedJobsError(SCOPE_WITHOUT_ID());
}

/** The id stored as `triggered_by_user_id`. */
export function triggeredById(value: JobOwnerLike | string | number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'object' ? (ownerIdsOf(value)?.userId ?? null) : String(value);
}
