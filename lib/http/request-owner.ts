import { UnauthorizedException } from '@nestjs/common';
import type { HttpOptions } from '../interfaces/managed-jobs-options.interface.js';
import type { JobOwner } from '../interfaces/job-owner.interface.js';

type Id = string | number;

function asId(value: unknown): Id | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length > 0 && value.length <= 255) return value;
  return null;
}

/**
 * Turns what the app gave (a `JobOwner`, or any object with `id` and optional `tenantId`, such as
 * a typical `req.user`) into a fixed owner, read once. Null when there is no usable owner id.
 */
export function toJobOwner(value: unknown): JobOwner | null {
  if (!value || typeof value !== 'object') return null;
  const candidate = value as Partial<JobOwner> & { id?: unknown; tenantId?: unknown };
  const isOwner = typeof candidate.getManagedJobOwnerId === 'function';
  const ownerId = asId(isOwner ? candidate.getManagedJobOwnerId!() : candidate.id);
  if (ownerId === null) return null;
  const tenantId = asId(isOwner ? candidate.getManagedJobTenantId?.() : candidate.tenantId);
  return { getManagedJobOwnerId: () => ownerId, getManagedJobTenantId: () => tenantId };
}

/**
 * The owner of a request: `http.resolveOwner(req)` when configured, else `req.user`. Only this
 * decides whose jobs a request sees; query strings and bodies never do. No owner → 401.
 */
export async function resolveRequestOwner(req: any, resolveOwner: HttpOptions['resolveOwner']): Promise<JobOwner> {
  const found = resolveOwner ? await resolveOwner(req) : req?.user;
  const owner = toJobOwner(found);
  if (!owner) throw new UnauthorizedException();
  return owner;
}
