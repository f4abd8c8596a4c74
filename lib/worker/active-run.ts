import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { JobStatus } from '../enums/job-status.enum.js';
import type { RegisteredJob } from '../discovery/job-registry.js';
import type { CompletedRun, Completion } from '../store/job-store.interface.js';
import type { RunContext } from './job-context.js';

/** How a handler settled. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: Error };

/** One run of a job in this process, from its claim until its slot is freed. */
export interface ActiveRun {
  job: ManagedJobEntity;
  registered: RegisteredJob;
  /** Absent when the payload could not be hydrated (the handler never ran). */
  ctx?: RunContext;
  /** Settles when the handler settles (never rejects). */
  handler: Promise<Outcome>;
  timeout?: NodeJS.Timeout;
  /** Its cell in the executor's `RunSlots` while it holds a slot. */
  slot?: number;
}

/** The retry delay after try `attempt` (1-based): the job's backoff list, its last entry repeating. */
export function backoffSeconds(backoff: number[], attempt: number): number {
  return backoff.length ? backoff[Math.min(attempt - 1, backoff.length - 1)] : 0;
}

/** The longest error text kept in the ledger (message and stack). */
const MAX_ERROR_TEXT = 16_384;

/**
 * What the ledger keeps of a failed run's error: its stack (which starts with the message), or
 * the message and the stack when the stack does not carry it. NUL characters (which PostgreSQL
 * refuses in text) become U+FFFD, so the outcome is always recorded.
 */
export function errorText(error: Error, message: string): string {
  const stack = typeof error.stack === 'string' ? error.stack : '';
  const text = !stack ? message : stack.includes(message) ? stack : `${message}\n${stack}`;
  return (text.length > MAX_ERROR_TEXT ? text.slice(0, MAX_ERROR_TEXT) : text).replace(/\0/g, '\uFFFD');
}

/** The record after a completion: the claimed row with what the completion wrote (saves reading the row back). */
export function completedJob(run: ActiveRun, completion: Completion, done: CompletedRun): ManagedJobEntity {
  return Object.assign(Object.create(Object.getPrototypeOf(run.job)) as ManagedJobEntity, run.job, {
    status: JobStatus.Completed,
    state: run.ctx?.getState() ?? run.job.state,
    result: completion.result === null ? null : JSON.parse(completion.result),
    progressPercentage: completion.progress,
    progressMessage: completion.message,
    failedReason: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    finishedAt: done.finishedAt,
    updatedAt: done.finishedAt,
  });
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
