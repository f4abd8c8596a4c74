import type { Namespace } from 'socket.io';
import type { BatchRecord } from '../workflows/batch.interfaces.js';
import { BatchBroadcastEvents, type BatchBroadcastEventName } from './gateway.constants.js';
import { roomsForJob, type ChannelType } from './channels.js';

/** What `batch.progress` / `batch.finished` carry (DESIGN "Workflows"). */
export interface BatchBroadcast {
  batchId: string;
  name: string | null;
  status: string;
  progress: number;
  total: number;
  completed: number;
  failed: number;
}

/** A batch event with the owner whose rooms it goes to (the owner is not sent to clients). */
export interface OwnedBatchBroadcast {
  batch: BatchBroadcast;
  ownerUserId: string | null;
  ownerTenantId: string | null;
}

export function toBatchBroadcast(b: BatchRecord): OwnedBatchBroadcast {
  return {
    batch: { batchId: b.batchId, name: b.name, status: b.status, progress: b.progress, total: b.total, completed: b.completed, failed: b.failed },
    ownerUserId: b.ownerUserId,
    ownerTenantId: b.ownerTenantId,
  };
}

/**
 * Emits batch events to the owner's rooms, coalesced as job progress is: at most one
 * `batch.progress` per batch per `intervalMs` (the newest wins; one trailing emit carries the
 * last), and `batch.finished` at once, dropping a progress still held. A batch of 10,000 members
 * finishing in a few seconds costs the browser a few dozen messages, not 10,000.
 */
export class BatchBroadcaster {
  private readonly held = new Map<string, { next: OwnedBatchBroadcast | null; timer: NodeJS.Timeout }>();

  constructor(
    private readonly namespace: Namespace,
    private readonly prefix: string,
    private readonly channelType: ChannelType,
    private readonly intervalMs: number,
  ) {}

  deliver(event: BatchBroadcastEventName, message: OwnedBatchBroadcast): void {
    const id = message.batch.batchId;
    const slot = this.held.get(id);
    if (event === BatchBroadcastEvents.Finished) {
      if (slot) {
        clearTimeout(slot.timer);
        this.held.delete(id);
      }
      return this.emit(event, message);
    }
    if (slot) {
      // Counters only grow while a batch runs: keep the newest.
      if (!slot.next || message.batch.progress >= slot.next.batch.progress) slot.next = message;
      return;
    }
    this.emit(event, message);
    this.hold(id);
  }

  private hold(id: string): void {
    const timer = setTimeout(() => {
      const slot = this.held.get(id);
      this.held.delete(id);
      if (slot?.next) {
        this.emit(BatchBroadcastEvents.Progress, slot.next);
        this.hold(id);
      }
    }, this.intervalMs);
    timer.unref();
    this.held.set(id, { next: null, timer });
  }

  private emit(event: BatchBroadcastEventName, message: OwnedBatchBroadcast): void {
    const rooms = roomsForJob(this.prefix, this.channelType, message);
    if (rooms.length) this.namespace.to(rooms).emit(event, message.batch);
  }

  close(): void {
    for (const slot of this.held.values()) clearTimeout(slot.timer);
    this.held.clear();
  }
}
