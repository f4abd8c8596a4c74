import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import type { AttemptOutcome } from '../entities/managed-job-attempt.entity.js';
import type { JobStatus } from '../enums/job-status.enum.js';

/** Who did an operator action and why; kept in the audit trail. */
export type Audit = { actor?: string; reason?: string };

export interface QueueStats {
  queue: string;
  paused: boolean;
  pending: number;
  waiting: number;
  running: number;
  completed: number;
  failed: number;
  stopped: number;
  /** How long the oldest pending job of the queue has existed (ms), or null with none pending. */
  oldestPendingAgeMs: number | null;
}

export interface OperatorStats {
  queues: QueueStats[];
  /** Live workers in the registry. */
  workers: number;
}

/** Jobs that finished in each of the last minutes, oldest minute first (the dashboard's chart). */
export interface Throughput {
  minutes: number;
  points: Array<{ minutesAgo: number; completed: number; failed: number }>;
}

export interface OperatorJobQuery {
  status?: JobStatus | JobStatus[] | string | string[];
  queue?: string;
  type?: string;
  ownerId?: string;
  tenantId?: string;
  batchId?: string;
  /** An exact job id, or a piece of the type, the failure reason or the progress message. */
  search?: string;
  createdFrom?: Date;
  createdTo?: Date;
  /** 1-based. @default 1 */
  page?: number;
  /** @default 20, at most 500 */
  limit?: number;
}

export interface RetryFilter {
  jobIds?: string[];
  status?: 'failed' | 'stopped';
  type?: string;
  queue?: string;
}

export interface DeleteFilter {
  jobIds?: string[];
  status?: 'completed' | 'failed' | 'stopped';
  type?: string;
  queue?: string;
  finishedBefore?: Date;
}

/** One run of a job, from the attempts ledger, with the error it ended with. */
export interface JobAttempt {
  attempt: number;
  fence: number;
  workerId: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: AttemptOutcome;
  error: string | null;
}

export interface JobStep {
  name: string;
  result: unknown;
  completedAt: Date;
}

export interface JobLogLine {
  at: Date;
  level: 'info' | 'warn' | 'error';
  message: string;
  data: Record<string, unknown> | null;
}

export interface JobDetails {
  job: ManagedJobEntity;
  attempts: JobAttempt[];
  steps: JobStep[];
  /** Every file record, expired ones included (`expiresAt` says which). */
  files: ManagedJobFileEntity[];
  /** The last 1,000 lines of `ctx.log`, oldest first. */
  logs: JobLogLine[];
}

export interface WorkerInfo {
  workerId: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  running: number;
  startedAt: Date;
  lastSeenAt: Date;
}

export interface AuditEntry {
  at: Date;
  actor: string | null;
  action: string;
  target: string;
  reason: string | null;
  count: number;
}
