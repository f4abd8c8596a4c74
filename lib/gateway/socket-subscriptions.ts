import type { Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ClientMessages, MAX_CHANNEL_LENGTH, MAX_CHANNELS_PER_SOCKET, SOCKET_OWNER_KEY } from './gateway.constants.js';
import {
  CHANNEL_TOO_LONG,
  FORBIDDEN_CHANNEL,
  MALFORMED_MESSAGE,
  RATE_LIMITED,
  SNAPSHOT_FAILED,
  TOO_MANY_CHANNELS,
  UNKNOWN_CHANNEL,
} from './gateway.messages.js';
import { pairRoom, parseChannel, tenantRoom, userRoom, type Channel, type ChannelType } from './channels.js';
import type { ListFilter } from '../store/job-store.interface.js';
import type { JobBroadcast } from './job-broadcast.payload.js';
import type { RoomBroadcaster } from './room-broadcaster.js';
import { SubscribeRateLimiter } from './subscribe-rate-limiter.js';

/** The ids of the owner that `authenticate(socket)` resolved at the handshake (private channels). */
export interface SocketOwner {
  userId: string | null;
  tenantId: string | null;
}

export type Ack = { ok: true } | { ok: false; error: string };

/** Which jobs a subscription's snapshot shows. */
export type SnapshotFilter = Pick<ListFilter, 'scope' | 'anyTenantOfUser'>;

/** A checked `subscribe`: the channel asked for, the room it joins, the jobs its snapshot shows. */
export interface Subscription {
  channel: Channel;
  room: string;
  filter: SnapshotFilter;
}

export interface SubscriptionContext {
  prefix: string;
  channelType: ChannelType;
  broadcaster: RoomBroadcaster;
  snapshot: (filter: SnapshotFilter) => Promise<{ jobs: JobBroadcast[]; truncated: boolean }>;
  logger: Logger;
}

/**
 * `subscribe` / `unsubscribe` of one socket. Every message is acknowledged (when the client asked
 * for an acknowledgement); a refused one changes nothing. Both share a per-socket rate limit.
 */
export function handleSubscriptions(socket: Socket, context: SubscriptionContext): void {
  const limiter = new SubscribeRateLimiter();
  const joining = new Set<string>();

  const subscribe = async ({ channel, room, filter }: Subscription): Promise<Ack> => {
    if (joining.has(room)) return { ok: true }; // its snapshot is on the way
    // Subscribing again to a room already joined is allowed: it sends a fresh snapshot.
    if (!socket.rooms.has(room) && socket.rooms.size - 1 >= MAX_CHANNELS_PER_SOCKET) {
      return { ok: false, error: TOO_MANY_CHANNELS(MAX_CHANNELS_PER_SOCKET) };
    }
    joining.add(room);
    try {
      await context.broadcaster.join(socket, room, channel.name, () => context.snapshot(filter));
      return { ok: true };
    } catch (error) {
      context.logger.warn(`Snapshot of ${channel.name} failed: ${(error as Error).message}`);
      return { ok: false, error: SNAPSHOT_FAILED };
    } finally {
      joining.delete(room);
    }
  };

  const unsubscribe = async ({ room }: Subscription): Promise<Ack> => {
    await socket.leave(room);
    return { ok: true };
  };

  const on = (message: string, action: (subscription: Subscription) => Promise<Ack>) => {
    socket.on(message, (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (reply: Ack) => void) : undefined;
      const reply = (result: Ack) => ack?.(result);
      if (!limiter.take()) return reply({ ok: false, error: RATE_LIMITED });
      const checked = checkChannel(args, socket, context);
      if ('error' in checked) return reply({ ok: false, error: checked.error });
      action(checked).then(reply, (error) => reply({ ok: false, error: (error as Error).message }));
    });
  };
  on(ClientMessages.Subscribe, subscribe);
  on(ClientMessages.Unsubscribe, unsubscribe);
}

/**
 * Validates `[{ channel }]` and decides what it joins. Private rooms: only the socket's own user
 * channel (joining the room of its own owner pair) and its own tenant channel. Public rooms: any
 * channel, a user channel hearing that user id's jobs of every tenant.
 */
function checkChannel(args: unknown[], socket: Socket, context: SubscriptionContext): Subscription | { error: string } {
  const [data] = args;
  if (args.length !== 1 || !data || typeof data !== 'object' || Array.isArray(data)) return { error: MALFORMED_MESSAGE };
  const name = (data as { channel?: unknown }).channel;
  if (typeof name !== 'string') return { error: MALFORMED_MESSAGE };
  if (name.length > MAX_CHANNEL_LENGTH) return { error: CHANNEL_TOO_LONG(MAX_CHANNEL_LENGTH) };
  const channel = parseChannel(context.prefix, name);
  if (!channel) return { error: UNKNOWN_CHANNEL(context.prefix) };
  const tenant = { channel, room: name, filter: { scope: { ownerUserId: null, ownerTenantId: channel.id } } } as const;
  if (context.channelType === 'public') return channel.kind === 'tenant' ? tenant : { channel, room: name, filter: { anyTenantOfUser: channel.id } };
  const owner = socket.data[SOCKET_OWNER_KEY] as SocketOwner | undefined;
  if (channel.kind === 'tenant') {
    return owner?.tenantId && tenantRoom(context.prefix, owner.tenantId) === name ? tenant : { error: FORBIDDEN_CHANNEL };
  }
  const room = owner?.userId && userRoom(context.prefix, owner.userId) === name ? pairRoom(context.prefix, owner.userId, owner.tenantId) : null;
  if (!room) return { error: FORBIDDEN_CHANNEL };
  return { channel, room, filter: { scope: { ownerUserId: owner!.userId!, ownerTenantId: owner!.tenantId } } };
}
