import type { BatchRecord } from './batch.interfaces.js';

/** Names of the batch events emitted through `@nestjs/event-emitter`. */
export const ManagedBatchEvents = {
  /** A member ended (completed, failed or stopped); `.batch` has the new counters. */
  Progress: 'managed-batch.progress',
  /** The batch ended: `completed`, `partial`, `failed` or `cancelled`. */
  Finished: 'managed-batch.finished',
} as const;

export type ManagedBatchEventName = (typeof ManagedBatchEvents)[keyof typeof ManagedBatchEvents];

export abstract class ManagedBatchEvent {
  abstract readonly name: ManagedBatchEventName;
  constructor(readonly batch: BatchRecord) {}
}
export class ManagedBatchProgressEvent extends ManagedBatchEvent {
  readonly name = ManagedBatchEvents.Progress;
}
export class ManagedBatchFinishedEvent extends ManagedBatchEvent {
  readonly name = ManagedBatchEvents.Finished;
}
