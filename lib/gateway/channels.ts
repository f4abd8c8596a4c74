/**
 * Channel and room names.
 *
 * Channels are what clients subscribe to (pinned): `{prefix}.{ownerUserId}` for a user,
 * `{prefix}.tenant.{tenantId}` for a tenant, so user 5 and tenant 5 never share one. A user id that
 * itself starts with `tenant.` could collide with a tenant channel, so such ids get no user channel.
 *
 * Rooms are what sockets join, and differ from the channel name for user channels on private
 * rooms: an owner is the pair (user, tenant), so (`u7`, `beta`) subscribing to `jobs.u7` joins the
 * room of its own pair and never hears (`u7`, `acme`)'s jobs. Pair rooms are internal names a
 * client cannot subscribe to by name (a NUL separates them from any channel).
 */
export type ChannelType = 'public' | 'private';

export interface Channel {
  kind: 'user' | 'tenant';
  id: string;
  /** The name the client subscribed with (and sees in snapshots). */
  name: string;
}

const TENANT = 'tenant.';

export function userRoom(prefix: string, userId: string): string | null {
  return userId && !userId.startsWith(TENANT) ? `${prefix}.${userId}` : null;
}

export function tenantRoom(prefix: string, tenantId: string): string | null {
  return tenantId ? `${prefix}.${TENANT}${tenantId}` : null;
}

/** The private room of one owner pair. JSON keeps (`a`, `b.c`) and (`a.b`, `c`) apart. */
export function pairRoom(prefix: string, userId: string, tenantId: string | null): string | null {
  return userRoom(prefix, userId) && `${prefix}\u0000${JSON.stringify([userId, tenantId])}`;
}

/**
 * The rooms a job's events go to: its tenant's, and its owner pair's (private rooms) or its user
 * id's whatever the tenant (public rooms, which anyone may join by name anyway).
 */
export function roomsForJob(prefix: string, type: ChannelType, job: { ownerUserId: string | null; ownerTenantId: string | null }): string[] {
  const { ownerUserId: user, ownerTenantId: tenant } = job;
  const own = user ? (type === 'private' ? pairRoom(prefix, user, tenant) : userRoom(prefix, user)) : null;
  return [own, tenant ? tenantRoom(prefix, tenant) : null].filter((room): room is string => !!room);
}

/** Parses a channel name a client sent; null when it names no channel of ours. */
export function parseChannel(prefix: string, name: string): Channel | null {
  if (!name.startsWith(`${prefix}.`) || /[\s\u0000]/.test(name)) return null;
  const rest = name.slice(prefix.length + 1);
  if (rest.startsWith(TENANT)) {
    const id = rest.slice(TENANT.length);
    return id ? { kind: 'tenant', id, name } : null;
  }
  return rest ? { kind: 'user', id: rest, name } : null;
}
