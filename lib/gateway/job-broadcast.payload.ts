import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { ManagedJobEvents, type ManagedJobEventName } from '../events/managed-job.events.js';
import { BroadcastEvents, type BroadcastEventName } from './gateway.constants.js';

/**
 * What a socket receives about a job: the user-facing record, camelCase. Never the payload
 * (it may hold what the owner typed), the checkpoint state, or lease and fence internals.
 */
export interface JobBroadcast {
  jobId: string;
  type: string;
  status: string;
  progress: number;
  progressMessage: string | null;
  failedReason: string | null;
  ownerUserId: string | null;
  ownerTenantId: string | null;
  /** Runs started so far (1 during the first run). */
  attempts: number;
  maxAttempts: number;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Database clock of the last change; events of one job arrive with non-decreasing values. */
  updatedAt: string;
  /** What `handle()` returned: on `job.completed` only. */
  result?: unknown;
}

/** `managed-job.retrying` has no socket event: the job's next `job.started` says it runs again. */
const EVENT_NAMES: Partial<Record<ManagedJobEventName, BroadcastEventName>> = {
  [ManagedJobEvents.Started]: BroadcastEvents.Started,
  [ManagedJobEvents.Progress]: BroadcastEvents.Progress,
  [ManagedJobEvents.Completed]: BroadcastEvents.Completed,
  [ManagedJobEvents.Stopped]: BroadcastEvents.Stopped,
  [ManagedJobEvents.Failed]: BroadcastEvents.Failed,
};

export function broadcastEventName(name: ManagedJobEventName): BroadcastEventName | undefined {
  return EVENT_NAMES[name];
}

export function toJobBroadcast(job: ManagedJobEntity, withResult = false): JobBroadcast {
  const payload: JobBroadcast = {
    jobId: job.jobId,
    type: job.type,
    status: job.status,
    progress: job.progressPercentage,
    progressMessage: job.progressMessage,
    failedReason: job.failedReason,
    ownerUserId: job.ownerUserId,
    ownerTenantId: job.ownerTenantId,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    updatedAt: iso(job.updatedAt) ?? new Date().toISOString(),
  };
  if (withResult) payload.result = job.result ?? null;
  return payload;
}

function iso(date: Date | null | undefined): string | null {
  return date instanceof Date && !isNaN(date.getTime()) ? date.toISOString() : null;
}
