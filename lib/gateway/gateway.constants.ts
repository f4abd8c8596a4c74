/** Server → client events. Names are part of the public contract (see DESIGN.md). */
export const BroadcastEvents = {
  Started: 'job.started',
  Progress: 'job.progress',
  Completed: 'job.completed',
  Stopped: 'job.stopped',
  Failed: 'job.failed',
  /** Sent once per `subscribe`, before any live event of that channel: its active jobs. */
  Snapshot: 'job.snapshot',
} as const;

export type BroadcastEventName = (typeof BroadcastEvents)[keyof typeof BroadcastEvents];

/** Client → server messages. */
export const ClientMessages = {
  Subscribe: 'subscribe',
  Unsubscribe: 'unsubscribe',
} as const;

/** Longest channel name accepted; anything longer is refused before it is parsed. */
export const MAX_CHANNEL_LENGTH = 200;
/** Channels one socket may be in at once (public channels let a socket name any room). */
export const MAX_CHANNELS_PER_SOCKET = 20;
/** `subscribe`/`unsubscribe` token bucket per socket: a burst of this many... */
export const SUBSCRIBE_BURST = 10;
/** ...refilled at this many per second. */
export const SUBSCRIBE_PER_SECOND = 2;
/** Active jobs sent in one snapshot (newest first); `truncated` says when there were more. */
export const SNAPSHOT_LIMIT = 100;
/**
 * Largest NOTIFY payload we send, in bytes. PostgreSQL refuses 8000 and more; above this an
 * event travels as ids only and the receiving process reads the row.
 */
export const MAX_NOTIFY_BYTES = 7500;
/** Jobs whose last delivered version is remembered, to drop events that arrive out of order. */
export const ORDER_GUARD_SIZE = 10_000;
/** Key under `socket.data` where the authenticated owner's ids are kept. */
export const SOCKET_OWNER_KEY = 'managedJobsOwner';
/** Injection token of the gateway's `GatewayState` (whether it serves sockets, and why not). */
export const GATEWAY_STATE = Symbol.for('nestjs-managed-jobs:gateway-state');

/** Server → client batch events (lib/workflows), to the batch owner's rooms. */
export const BatchBroadcastEvents = {
  Progress: 'batch.progress',
  Finished: 'batch.finished',
} as const;

export type BatchBroadcastEventName = (typeof BatchBroadcastEvents)[keyof typeof BatchBroadcastEvents];
