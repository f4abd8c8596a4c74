/**
 * Room names. A user's jobs go to `{prefix}.{ownerUserId}`, a tenant's to
 * `{prefix}.tenant.{tenantId}`, so user 5 and tenant 5 never share a room. A user id that itself
 * starts with `tenant.` could collide with a tenant room, so such ids get no user room at all.
 */
export type Channel = { kind: 'user' | 'tenant'; id: string; room: string };

const TENANT = 'tenant.';

export function userRoom(prefix: string, userId: string): string | null {
  return userId && !userId.startsWith(TENANT) ? `${prefix}.${userId}` : null;
}

export function tenantRoom(prefix: string, tenantId: string): string | null {
  return tenantId ? `${prefix}.${TENANT}${tenantId}` : null;
}

/** The rooms a job's events go to. */
export function roomsForJob(prefix: string, job: { ownerUserId: string | null; ownerTenantId: string | null }): string[] {
  const rooms = [job.ownerUserId && userRoom(prefix, job.ownerUserId), job.ownerTenantId && tenantRoom(prefix, job.ownerTenantId)];
  return rooms.filter((room): room is string => !!room);
}

/** Parses a channel name a client sent; null when it names no room of ours. */
export function parseChannel(prefix: string, name: string): Channel | null {
  if (!name.startsWith(`${prefix}.`) || /\s/.test(name)) return null;
  const rest = name.slice(prefix.length + 1);
  if (rest.startsWith(TENANT)) {
    const id = rest.slice(TENANT.length);
    return id ? { kind: 'tenant', id, room: name } : null;
  }
  return rest ? { kind: 'user', id: rest, room: name } : null;
}
