import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import type { JobStatus } from '../enums/job-status.enum.js';

/**
 * A job as the HTTP API shows it to its owner. Lease, fence and worker internals are never
 * included, nor the checkpoint `state` (the job's own bookkeeping, which may hold cursors or
 * tokens); the owner's own `payload` and the `result` are.
 */
export interface JobResponse {
  jobId: string;
  type: string;
  queue: string;
  status: JobStatus;
  payload: unknown;
  result: unknown;
  progress: number;
  progressMessage: string | null;
  failedReason: string | null;
  ownerUserId: string | null;
  ownerTenantId: string | null;
  triggeredByUserId: string | null;
  attempts: number;
  maxAttempts: number;
  availableAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A file as the HTTP API shows it; its storage path stays on the server. */
export interface JobFileResponse {
  fileId: string;
  jobId: string;
  filename: string;
  mimeType: string;
  sizeBytes: number;
  expiresAt: Date;
  createdAt: Date;
}

export function toJobResponse(job: ManagedJobEntity): JobResponse {
  return {
    jobId: job.jobId,
    type: job.type,
    queue: job.queue,
    status: job.status,
    payload: job.payload,
    result: job.result,
    progress: job.progressPercentage,
    progressMessage: job.progressMessage,
    failedReason: job.failedReason,
    ownerUserId: job.ownerUserId,
    ownerTenantId: job.ownerTenantId,
    triggeredByUserId: job.triggeredByUserId,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    availableAt: job.availableAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

export function toFileResponse(file: ManagedJobFileEntity): JobFileResponse {
  return {
    fileId: file.jobFileId,
    jobId: file.jobId,
    filename: file.filename,
    mimeType: file.mimeType,
    sizeBytes: Number(file.sizeBytes),
    expiresAt: file.expiresAt,
    createdAt: file.createdAt,
  };
}
