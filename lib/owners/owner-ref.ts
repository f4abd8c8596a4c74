import type { JobOwner, JobOwnerLike } from '../interfaces/job-owner.interface.js';

/** An owner's ids as stored (`owner_user_id`, `owner_tenant_id`): strings, or null. */
export interface OwnerIds {
  userId: string | null;
  tenantId: string | null;
}

/** A usable id: a finite number or a non-empty string of at most 255 characters (the column). */
export function ownerIdOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= 255) return value;
  return null;
}

/**
 * The one converter of owner shapes, used by `dispatch`'s `owner`/`triggeredBy`, scopes, the
 * HTTP `resolveOwner` and the socket `authenticate`: a `JobOwner` (its getters are read once) or
 * a plain `{ id, tenantId? }` such as a typical `req.user`. Null when it is neither or has no
 * usable id at all. A pure function.
 */
export function ownerIdsOf(value: JobOwnerLike | null | undefined | unknown): OwnerIds | null {
  if (!value || typeof value !== 'object') return null;
  const candidate = value as Partial<JobOwner> & { id?: unknown; tenantId?: unknown };
  const isOwner = typeof candidate.getManagedJobOwnerId === 'function';
  const userId = ownerIdOf(isOwner ? candidate.getManagedJobOwnerId!() : candidate.id);
  const tenantId = ownerIdOf(isOwner ? candidate.getManagedJobTenantId?.() : candidate.tenantId);
  return userId === null && tenantId === null ? null : { userId, tenantId };
}

/** The same owner as a fixed `JobOwner` (ids read once). Null without an owner id. */
export function toJobOwner(value: unknown): JobOwner | null {
  const ids = ownerIdsOf(value);
  if (!ids || ids.userId === null) return null;
  const { userId, tenantId } = ids;
  return { getManagedJobOwnerId: () => userId, getManagedJobTenantId: () => tenantId };
}
