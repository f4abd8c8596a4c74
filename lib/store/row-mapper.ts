import { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import type { JobStatus } from '../enums/job-status.enum.js';
import type { NewJob } from './job-store.interface.js';

/** Turns raw rows of either dialect into entities with real types (Dates, numbers, parsed JSON). */
type Row = Record<string, any>;

const digit = (text: string, i: number) => text.charCodeAt(i) - 48;

/**
 * 'YYYY-MM-DD HH:MM:SS[.f{1,3}]', the UTC text both dialects store, read by hand: the engine's
 * date-string parser was a tenth of a SQLite worker's time. Anything else goes to `Date`.
 */
function fromUtcText(text: string): Date {
  const n = text.length;
  if (n < 19 || n > 23 || n === 20 || text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':' || (n > 19 && text[19] !== '.')) {
    return new Date(text.replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? '' : 'Z'));
  }
  const ms = n > 20 ? digit(text, 20) * 100 + (n > 21 ? digit(text, 21) * 10 : 0) + (n > 22 ? digit(text, 22) : 0) : 0;
  return new Date(
    Date.UTC(
      digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3),
      digit(text, 5) * 10 + digit(text, 6) - 1,
      digit(text, 8) * 10 + digit(text, 9),
      digit(text, 11) * 10 + digit(text, 12),
      digit(text, 14) * 10 + digit(text, 15),
      digit(text, 17) * 10 + digit(text, 18),
      ms,
    ),
  );
}

export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  return fromUtcText(String(value));
}

function json(value: unknown): any {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? JSON.parse(value) : value;
}

export function toJob(row: Row): ManagedJobEntity {
  const job = new ManagedJobEntity();
  job.jobId = row.job_id;
  job.type = row.type;
  job.queue = row.queue;
  job.status = row.status as JobStatus;
  job.priority = Number(row.priority);
  job.payload = json(row.payload);
  job.state = json(row.state);
  job.result = json(row.result);
  job.progressPercentage = Number(row.progress_percentage);
  job.progressMessage = row.progress_message ?? null;
  job.ownerUserId = row.owner_user_id ?? null;
  job.ownerTenantId = row.owner_tenant_id ?? null;
  job.triggeredByUserId = row.triggered_by_user_id ?? null;
  job.attempts = Number(row.attempts);
  job.maxAttempts = Number(row.max_attempts);
  job.idempotent = Boolean(row.idempotent);
  job.availableAt = toDate(row.available_at)!;
  job.leaseOwner = row.lease_owner ?? null;
  job.leaseExpiresAt = toDate(row.lease_expires_at);
  job.fence = Number(row.fence);
  job.failedReason = row.failed_reason ?? null;
  job.startedAt = toDate(row.started_at);
  job.finishedAt = toDate(row.finished_at);
  job.createdAt = toDate(row.created_at)!;
  job.updatedAt = toDate(row.updated_at)!;
  job.retryUntil = toDate(row.retry_until);
  job.stoppable = row.stoppable === undefined || Boolean(row.stoppable);
  job.traceContext = row.trace_context ?? null;
  job.uniqueKey = row.unique_key ?? null;
  job.uniqueUntil = row.unique_until ?? null;
  job.concurrencyKey = row.concurrency_key ?? null;
  job.rateKey = row.rate_key ?? null;
  job.batchId = row.batch_id ?? null;
  job.batchKey = row.batch_key ?? null;
  job.callbackBatchId = row.callback_batch_id ?? null;
  return job;
}

/**
 * The record of a job just inserted, from what was inserted and the three columns the database
 * decided (`RETURNING job_id, available_at, created_at`): reading back whole rows was a fifth of a
 * bulk dispatch. Defaults here are the table's.
 */
export function insertedJob(j: NewJob, row: Row): ManagedJobEntity {
  const job = new ManagedJobEntity();
  job.jobId = j.jobId;
  job.type = j.type;
  job.queue = j.queue;
  job.status = 'pending' as JobStatus;
  job.priority = j.priority;
  job.payload = json(j.payload);
  job.state = null;
  job.result = null;
  job.progressPercentage = 0;
  job.progressMessage = null;
  job.ownerUserId = j.ownerUserId;
  job.ownerTenantId = j.ownerTenantId;
  job.triggeredByUserId = j.triggeredByUserId;
  job.attempts = 0;
  job.maxAttempts = j.maxAttempts;
  job.idempotent = j.idempotent;
  job.availableAt = toDate(row.available_at)!;
  job.leaseOwner = null;
  job.leaseExpiresAt = null;
  job.fence = 0;
  job.failedReason = null;
  job.startedAt = null;
  job.finishedAt = null;
  job.createdAt = toDate(row.created_at)!;
  job.updatedAt = job.createdAt;
  job.retryUntil = j.retryUntil;
  job.stoppable = j.stoppable;
  job.traceContext = j.traceContext ?? null;
  const keys = j.keys;
  job.uniqueKey = keys ? keys.uniqueKey : null;
  job.uniqueUntil = keys ? keys.uniqueUntil : null;
  job.concurrencyKey = keys ? keys.concurrencyKey : null;
  job.rateKey = keys ? keys.rateKey : null;
  job.batchId = null;
  job.batchKey = null;
  job.callbackBatchId = null;
  return job;
}

export function toFile(row: Row): ManagedJobFileEntity {
  const file = new ManagedJobFileEntity();
  file.jobFileId = row.job_file_id;
  file.jobId = row.job_id;
  file.filename = row.filename;
  file.path = row.path;
  file.mimeType = row.mime_type;
  file.sizeBytes = String(row.size_bytes);
  file.expiresAt = toDate(row.expires_at)!;
  file.createdAt = toDate(row.created_at)!;
  file.deletedAt = toDate(row.deleted_at);
  return file;
}

/** The order a worker starts claimed jobs in: higher priority first, then oldest (UUIDv7 ids sort by creation). */
export function byPriorityThenAge(a: ManagedJobEntity, b: ManagedJobEntity): number {
  return b.priority - a.priority || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0);
}

/** `Date` → the UTC text both dialects store. */
export function utcText(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
