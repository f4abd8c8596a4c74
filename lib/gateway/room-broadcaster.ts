import type { Namespace, Socket } from 'socket.io';
import { BroadcastEvents, type BroadcastEventName } from './gateway.constants.js';
import { roomsForJob, type ChannelType } from './channels.js';
import { EventOrderGuard } from './event-order-guard.js';
import type { JobBroadcast } from './job-broadcast.payload.js';

interface Held {
  event: BroadcastEventName;
  job: JobBroadcast;
}

/**
 * Emits job events to their rooms, and makes `subscribe` atomic for the client: a socket that is
 * joining a room receives the room's snapshot first and only then the live events, none lost and
 * none stale. While its snapshot is read, events for that room skip the socket (`except(id)`)
 * and wait in a buffer; after the snapshot, the ones newer than what it showed are sent.
 */
export class RoomBroadcaster {
  /** room → socket id → events held while that socket's snapshot is read. */
  private readonly syncing = new Map<string, Map<string, Held[]>>();
  private readonly guard = new EventOrderGuard();

  constructor(
    private readonly namespace: Namespace,
    private readonly prefix: string,
    private readonly channelType: ChannelType,
  ) {}

  private roomsOf(job: JobBroadcast): string[] {
    return roomsForJob(this.prefix, this.channelType, job);
  }

  deliver(event: BroadcastEventName, job: JobBroadcast): void {
    if (!this.guard.accept(job.jobId, job.updatedAt)) return;
    const rooms = this.roomsOf(job);
    if (!rooms.length) return;
    const held = new Set<string>();
    for (const room of rooms) {
      for (const [socketId, buffer] of this.syncing.get(room) ?? []) {
        if (held.has(socketId)) continue;
        held.add(socketId);
        buffer.push({ event, job });
      }
    }
    const target = this.namespace.to(rooms);
    (held.size ? target.except([...held]) : target).emit(event, job);
  }

  /** Join `room`, send `{ channel, jobs }` as `job.snapshot`, then what happened meanwhile. */
  async join(socket: Socket, room: string, channel: string, snapshot: () => Promise<{ jobs: JobBroadcast[]; truncated: boolean }>): Promise<void> {
    const buffer: Held[] = [];
    const sockets = this.syncing.get(room) ?? new Map<string, Held[]>();
    this.syncing.set(room, sockets);
    sockets.set(socket.id, buffer);
    let shown = new Map<string, number>();
    try {
      await socket.join(room);
      const { jobs, truncated } = await snapshot();
      shown = new Map(jobs.map((job) => [job.jobId, Date.parse(job.updatedAt)]));
      socket.emit(BroadcastEvents.Snapshot, { channel, jobs, truncated });
    } catch (error) {
      await socket.leave(room);
      throw error;
    } finally {
      sockets.delete(socket.id);
      if (!sockets.size) this.syncing.delete(room);
      // Send what was held: events the snapshot already showed a newer state of are dropped;
      // after a failure, only those for rooms the socket is still in.
      for (const { event, job } of buffer) {
        if (Date.parse(job.updatedAt) < (shown.get(job.jobId) ?? -Infinity)) continue;
        if (!this.roomsOf(job).some((r) => socket.rooms.has(r))) continue;
        socket.emit(event, job);
      }
    }
  }
}
