import type { NewJob } from '../store/job-store.interface.js';
import { toDate } from '../store/row-mapper.js';
import { BatchStatus, type BatchRecord } from './batch.interfaces.js';

/** A `then` / `catch` / `finally` job as validated at creation, kept in the batch row (JSON) until dispatched. */
export type CallbackTemplate = Omit<NewJob, 'jobId' | 'availableAt' | 'delayMs' | 'retryUntil' | 'keys'>;

export interface BatchCallbacks {
  then?: CallbackTemplate;
  catch?: CallbackTemplate;
  finally?: CallbackTemplate;
}

/** Which callback a bit of `callbacks_sent` stands for. */
export const CALLBACK_BIT = { then: 1, catch: 2, finally: 4 } as const;

export interface NewBatchRow {
  batchId: string;
  name: string | null;
  total: number;
  failurePolicy: 'failFast' | 'continue' | 'threshold';
  failureThreshold: number | null;
  callbacks: string | null;
  ownerUserId: string | null;
  ownerTenantId: string | null;
  triggeredByUserId: string | null;
}

/** A `managed_job_batches` row as a dialect returns it. */
export type BatchRow = Record<string, any>;

const FINISHED_STATUSES = new Set<string>([BatchStatus.Completed, BatchStatus.Partial, BatchStatus.Failed, BatchStatus.Cancelled]);

export function isFinished(status: string): boolean {
  return FINISHED_STATUSES.has(status);
}

/** The record from the row's counters; `running` from the batch index (members `running` now). */
export function toBatchRecord(row: BatchRow, running: number): BatchRecord {
  const total = Number(row.total);
  const completed = Number(row.completed);
  const failed = Number(row.failed);
  const stopped = Number(row.stopped);
  const finished = completed + failed + stopped;
  return {
    batchId: row.batch_id,
    name: row.name ?? null,
    status: row.status as BatchStatus,
    total,
    pending: Math.max(0, total - finished - running),
    running,
    completed,
    failed,
    stopped,
    progress: total ? Math.min(100, Math.floor((finished * 100) / total)) : 100,
    ownerUserId: row.owner_user_id ?? null,
    ownerTenantId: row.owner_tenant_id ?? null,
    createdAt: toDate(row.created_at)!,
    finishedAt: toDate(row.finished_at),
  };
}

/** Whether the policy ends the batch at its `failed`-th failed member. */
export function failureEndsBatch(row: BatchRow, failed: number): boolean {
  if (row.failure_policy === 'failFast') return failed >= 1;
  if (row.failure_policy === 'threshold') return failed > Number(row.failure_threshold);
  return false;
}
