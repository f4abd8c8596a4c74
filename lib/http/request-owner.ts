import { UnauthorizedException } from '@nestjs/common';
import type { HttpOptions } from '../interfaces/managed-jobs-options.interface.js';
import type { JobOwner } from '../interfaces/job-owner.interface.js';
import { toJobOwner } from '../owners/owner-ref.js';

/**
 * The owner of a request: `http.resolveOwner(req)` when configured, else `req.user`, either a
 * `JobOwner` or `{ id, tenantId }`. Only this decides whose jobs a request sees; query strings and
 * bodies never do. No owner → 401.
 */
export async function resolveRequestOwner(req: any, resolveOwner: HttpOptions['resolveOwner']): Promise<JobOwner> {
  const found = resolveOwner ? await resolveOwner(req) : req?.user;
  const owner = toJobOwner(found);
  if (!owner) throw new UnauthorizedException();
  return owner;
}
