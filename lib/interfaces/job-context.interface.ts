import type { JobBatchHandle } from '../workflows/batch.interfaces.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';

/** Options of `ctx.updateProgressSteps()`: map `done/total` into the `[from, to]` band of the bar. */
export interface ProgressStepsOptions {
  /** @default 0 */
  from?: number;
  /** @default 100 */
  to?: number;
  message?: string;
}

/** A file the job wrote itself, to be recorded with `ctx.addFile()`. */
export interface AddFileInput {
  /** Path relative to the storage root (or absolute inside it). */
  path: string;
  /** Name shown to users and sent in downloads. */
  filename: string;
  mimeType: string;
  sizeBytes: number;
  /** @default now + `fileExpiryDays` */
  expiresAt?: Date;
}

export interface PutFileOptions {
  mimeType: string;
  /** @default now + `fileExpiryDays` */
  expiresAt?: Date;
}

/**
 * Everything a running job can do. One context per run: keep per-run state here, never on the
 * (singleton) job provider.
 */
export interface JobContext<P = unknown> {
  readonly jobId: string;
  /** The record as claimed for this run. */
  readonly job: ManagedJobEntity;
  /** The validated payload, an instance of the job's payload class when it declares one. */
  readonly payload: P;
  /** 1 on the first run. */
  readonly attempt: number;
  /** Aborted on stop, timeout, shutdown or a lost lease; `signal.reason` is a `JobInterruptedError`. */
  readonly signal: AbortSignal;

  /** Report progress (0–100, clamped). Cheap: writes and broadcasts are coalesced. */
  updateProgress(percent: number, message?: string): Promise<void>;
  /** Report `done` of `total` units, mapped into `[from, to]`. */
  updateProgressSteps(done: number, total: number, options?: { from?: number; to?: number; message?: string }): Promise<void>;
  /** Whether the job should stop now (stopped by a user, timed out, or the worker is shutting down). */
  isStopped(): Promise<boolean>;
  /** Throws the `JobInterruptedError` when `isStopped()` would be true. */
  throwIfStopped(): void;
  /** Persist a checkpoint; `getState()` returns it in this and every later run. */
  saveState(state: Record<string, unknown>): Promise<void>;
  getState<S extends Record<string, unknown> = Record<string, unknown>>(): S | null;
  /** Run `fn` once per job across retries; later runs get the stored (JSON) result. */
  step<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
  /** Record a file the job wrote under the storage root. */
  addFile(file: AddFileInput): Promise<ManagedJobFileEntity>;
  /**
   * When `handle` returns after this call, the job goes back to `pending`, due after `delayMs`,
   * instead of completing; the run uses no try (Laravel's `$this->release($seconds)`). After the
   * job's `retryUntil` moment, a release fails the job instead. A throw after it fails the try as usual.
   */
  release(options?: { delayMs?: number }): void;
  /**
   * The point of no return: from now until this run ends, `stop()` of the job is refused with
   * `JobStateConflictError` (HTTP 409) in every process. Throws the `JobInterruptedError` when a
   * stop got there first.
   */
  disableStop(): Promise<void>;
  /** Write `data` to storage under a job-scoped path and record it. */
  putFile(filename: string, data: string | Uint8Array | NodeJS.ReadableStream, options: PutFileOptions): Promise<ManagedJobFileEntity>;
  /**
   * Lines kept with the job (its last 1,000, written in batches: a call costs no statement),
   * shown by the operator's `findJob`, the operator API and the dashboard, and sent to the Nest
   * logger with the job id. `data` is stored as JSON.
   */
  readonly log: JobLogger;
  /** The batch this job is a member of (or the `then` / `catch` / `finally` job of), else null. */
  readonly batch: JobBatchHandle | null;
  /** The stored result of each direct dependency (see Workflows), by its `key`. */
  dependencyResults<T = Record<string, unknown>>(): Promise<T>;
}

export interface JobLogger {
  info(message: string, data?: object): void;
  warn(message: string, data?: object): void;
  error(message: string, data?: object): void;
}
