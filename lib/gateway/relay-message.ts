import { BatchBroadcastEvents, BroadcastEvents, MAX_NOTIFY_BYTES, type BatchBroadcastEventName, type BroadcastEventName } from './gateway.constants.js';
import type { OwnedBatchBroadcast } from './batch-broadcaster.js';
import type { JobBroadcast } from './job-broadcast.payload.js';

/**
 * The NOTIFY payload that carries one job event between processes: `{ o, e, j }` (origin, event,
 * broadcast payload), or `{ o, e, id }` when the payload would not fit PostgreSQL's 8000 bytes
 * (a long message or a big result); the receiver then reads the row itself.
 */
export type RelayMessage = { origin: string; event: BroadcastEventName } & ({ job: JobBroadcast } | { jobId: string });

/** A batch event between processes: `{ o, e, b }` (lib/workflows; always small). */
export interface BatchRelayMessage {
  origin: string;
  batchEvent: BatchBroadcastEventName;
  message: OwnedBatchBroadcast;
}

const BATCH_EVENTS = new Set<string>(Object.values(BatchBroadcastEvents));

export function encodeBatchRelayMessage(origin: string, event: BatchBroadcastEventName, message: OwnedBatchBroadcast): string {
  return JSON.stringify({ o: origin, e: event, b: message });
}

/** Null for anything that is not a batch message of ours. */
export function decodeBatchRelayMessage(text: string): BatchRelayMessage | null {
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!raw || typeof raw.o !== 'string' || !BATCH_EVENTS.has(raw.e) || typeof raw.b?.batch?.batchId !== 'string') return null;
  return { origin: raw.o, batchEvent: raw.e, message: raw.b };
}

const LIVE_EVENTS = new Set<string>(Object.values(BroadcastEvents).filter((e) => e !== BroadcastEvents.Snapshot));

export function encodeRelayMessage(origin: string, event: BroadcastEventName, job: JobBroadcast): string {
  const full = JSON.stringify({ o: origin, e: event, j: job });
  if (Buffer.byteLength(full) <= MAX_NOTIFY_BYTES) return full;
  return JSON.stringify({ o: origin, e: event, id: job.jobId });
}

/** Null for anything that is not a message of ours (the channel is open to every database user). */
export function decodeRelayMessage(text: string): RelayMessage | null {
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!raw || typeof raw.o !== 'string' || typeof raw.e !== 'string' || !LIVE_EVENTS.has(raw.e)) return null;
  const event = raw.e as BroadcastEventName;
  if (raw.j && typeof raw.j === 'object' && typeof raw.j.jobId === 'string') return { origin: raw.o, event, job: raw.j };
  if (typeof raw.id === 'string') return { origin: raw.o, event, jobId: raw.id };
  return null;
}
