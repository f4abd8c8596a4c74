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
import { parseChannel, tenantRoom, userRoom, type Channel } from './channels.js';
import type { JobBroadcast } from './job-broadcast.payload.js';
import type { RoomBroadcaster } from './room-broadcaster.js';
import { SubscribeRateLimiter } from './subscribe-rate-limiter.js';

/** The ids of the owner that `authenticate(socket)` resolved at the handshake (private channels). */
export interface SocketOwner {
  userId: string | null;
  tenantId: string | null;
}

export type Ack = { ok: true } | { ok: false; error: string };

export interface SubscriptionContext {
  prefix: string;
  channelType: 'public' | 'private';
  broadcaster: RoomBroadcaster;
  snapshot: (channel: Channel) => Promise<{ jobs: JobBroadcast[]; truncated: boolean }>;
  logger: Logger;
}

/**
 * `subscribe` / `unsubscribe` of one socket. Every message is acknowledged (when the client asked
 * for an acknowledgement); a refused one changes nothing. Both share a per-socket rate limit.
 */
export function handleSubscriptions(socket: Socket, context: SubscriptionContext): void {
  const limiter = new SubscribeRateLimiter();
  const joining = new Set<string>();

  const subscribe = async (channel: Channel): Promise<Ack> => {
    if (joining.has(channel.room)) return { ok: true }; // its snapshot is on the way
    // Subscribing again to a room already joined is allowed: it sends a fresh snapshot.
    if (!socket.rooms.has(channel.room) && socket.rooms.size - 1 >= MAX_CHANNELS_PER_SOCKET) {
      return { ok: false, error: TOO_MANY_CHANNELS(MAX_CHANNELS_PER_SOCKET) };
    }
    joining.add(channel.room);
    try {
      await context.broadcaster.join(socket, channel.room, () => context.snapshot(channel));
      return { ok: true };
    } catch (error) {
      context.logger.warn(`Snapshot of ${channel.room} failed: ${(error as Error).message}`);
      return { ok: false, error: SNAPSHOT_FAILED };
    } finally {
      joining.delete(channel.room);
    }
  };

  const unsubscribe = async (channel: Channel): Promise<Ack> => {
    await socket.leave(channel.room);
    return { ok: true };
  };

  const on = (message: string, action: (channel: Channel) => Promise<Ack>) => {
    socket.on(message, (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (reply: Ack) => void) : undefined;
      const reply = (result: Ack) => ack?.(result);
      if (!limiter.take()) return reply({ ok: false, error: RATE_LIMITED });
      const checked = checkChannel(args, socket, context);
      if ('error' in checked) return reply({ ok: false, error: checked.error });
      action(checked.channel).then(reply, (error) => reply({ ok: false, error: (error as Error).message }));
    });
  };
  on(ClientMessages.Subscribe, subscribe);
  on(ClientMessages.Unsubscribe, unsubscribe);
}

/** Validates `[{ channel }]` and, on private channels, that the socket's owner may see it. */
function checkChannel(args: unknown[], socket: Socket, context: SubscriptionContext): { channel: Channel } | { error: string } {
  const [data] = args;
  if (args.length !== 1 || !data || typeof data !== 'object' || Array.isArray(data)) return { error: MALFORMED_MESSAGE };
  const name = (data as { channel?: unknown }).channel;
  if (typeof name !== 'string') return { error: MALFORMED_MESSAGE };
  if (name.length > MAX_CHANNEL_LENGTH) return { error: CHANNEL_TOO_LONG(MAX_CHANNEL_LENGTH) };
  const channel = parseChannel(context.prefix, name);
  if (!channel) return { error: UNKNOWN_CHANNEL(context.prefix) };
  if (context.channelType === 'private') {
    const owner = socket.data[SOCKET_OWNER_KEY] as SocketOwner | undefined;
    const own =
      channel.kind === 'user'
        ? !!owner?.userId && userRoom(context.prefix, owner.userId) === channel.room
        : !!owner?.tenantId && tenantRoom(context.prefix, owner.tenantId) === channel.room;
    if (!own) return { error: FORBIDDEN_CHANNEL };
  }
  return { channel };
}
