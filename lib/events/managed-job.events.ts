import type { ManagedJobEntity } from '../entities/managed-job.entity.js';

/** Names of the lifecycle events emitted through `@nestjs/event-emitter`. */
export const ManagedJobEvents = {
  Started: 'managed-job.started',
  Progress: 'managed-job.progress',
  Completed: 'managed-job.completed',
  Stopped: 'managed-job.stopped',
  Failed: 'managed-job.failed',
  /** A run failed and the job will run again (its next try is pending). */
  Retrying: 'managed-job.retrying',
} as const;

export type ManagedJobEventName = (typeof ManagedJobEvents)[keyof typeof ManagedJobEvents];

/** Base of every lifecycle event: `.job` is the record as it stands after the transition. */
export abstract class ManagedJobEvent {
  abstract readonly name: ManagedJobEventName;
  constructor(readonly job: ManagedJobEntity) {}
}

export class ManagedJobStartedEvent extends ManagedJobEvent {
  readonly name = ManagedJobEvents.Started;
}
export class ManagedJobProgressEvent extends ManagedJobEvent {
  readonly name = ManagedJobEvents.Progress;
}
export class ManagedJobCompletedEvent extends ManagedJobEvent {
  readonly name = ManagedJobEvents.Completed;
}
export class ManagedJobStoppedEvent extends ManagedJobEvent {
  readonly name = ManagedJobEvents.Stopped;
}
export class ManagedJobFailedEvent extends ManagedJobEvent {
  readonly name = ManagedJobEvents.Failed;
  /** The error of the last run, when it happened in this process. */
  constructor(
    job: ManagedJobEntity,
    readonly error?: Error,
  ) {
    super(job);
  }
}
export class ManagedJobRetryingEvent extends ManagedJobEvent {
  readonly name = ManagedJobEvents.Retrying;
  /** `.job`: the record back in `pending`, due at `availableAt`; `.error`: what failed the run. */
  constructor(
    job: ManagedJobEntity,
    readonly error: Error,
  ) {
    super(job);
  }
}
