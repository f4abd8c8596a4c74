import {
  INVALID_PAYLOAD,
  JOB_FENCED,
  INVALID_JOB_VALUE,
  INVALID_JOB_KEY,
  UNIQUE_HOLDER_EXISTS,
  JOB_FILE_NOT_FOUND,
  JOB_NOT_FOUND,
  JOB_NOT_RETRYABLE,
  JOB_NOT_STOPPABLE,
  JOB_STOP_DISABLED,
  UNKNOWN_JOB,
} from '../managed-jobs.messages.js';

/** Base class of every error this library throws on purpose. */
export class ManagedJobsError extends Error {
  override readonly name: string = 'ManagedJobsError';
}

/** One failed class-validator constraint, flattened: `items[0].sku` → `{ property, constraints }`. */
export interface PayloadViolation {
  property: string;
  constraints: Record<string, string>;
}

/** `dispatch()` refused a payload; nothing was written. */
export class InvalidJobPayloadError extends ManagedJobsError {
  override readonly name = 'InvalidJobPayloadError';
  constructor(
    readonly jobName: string,
    readonly violations: PayloadViolation[],
  ) {
    super(INVALID_PAYLOAD(jobName, violations.length));
  }
}

/** No `@ManagedJob()` provider has that name or class; nothing was written. */
export class UnknownJobError extends ManagedJobsError {
  override readonly name = 'UnknownJobError';
  constructor(readonly jobName: string) {
    super(UNKNOWN_JOB(jobName));
  }
}

/** No such job, or it belongs to another owner (the two are indistinguishable on purpose). */
export class JobNotFoundError extends ManagedJobsError {
  override readonly name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    super(JOB_NOT_FOUND(jobId));
  }
}

/** No such file, it expired, or its job is not found in scope. */
export class JobFileNotFoundError extends ManagedJobsError {
  override readonly name = 'JobFileNotFoundError';
  constructor(
    readonly jobId: string,
    readonly fileId: string,
  ) {
    super(JOB_FILE_NOT_FOUND(jobId, fileId));
  }
}

/** The job exists but its status does not allow the operation (stop a finished job, retry a running one). */
export class JobStateConflictError extends ManagedJobsError {
  override readonly name: string = 'JobStateConflictError';
  constructor(
    readonly jobId: string,
    readonly status: string,
    operation: 'stop' | 'retry',
    /** The job could be stopped by its status, but refuses stops (`stoppable: false`, `ctx.disableStop()`). */
    stopDisabled = false,
  ) {
    super(operation === 'retry' ? JOB_NOT_RETRYABLE(jobId, status) : stopDisabled ? JOB_STOP_DISABLED(jobId, status) : JOB_NOT_STOPPABLE(jobId, status));
  }
}

/**
 * Thrown from `handle` (or a job middleware) to fail the job at once: no retry whatever `tries`
 * or `retryUntil` say, `failed()` is called, and `failedReason` is the message.
 */
export class UnrecoverableJobError extends ManagedJobsError {
  override readonly name: string = 'UnrecoverableJobError';
}

/**
 * A value a job tried to store (its result, state, a step's result, a progress message) that no
 * database may hold: NUL characters, lone surrogates, absurd nesting. Nothing was written.
 */
export class InvalidJobValueError extends ManagedJobsError {
  override readonly name = 'InvalidJobValueError';
  constructor(
    readonly what: string,
    readonly violations: PayloadViolation[],
  ) {
    super(INVALID_JOB_VALUE(what, violations));
  }
}

/** A write from a run that no longer owns its job (stopped, timed out, or reassigned after a lost lease). */
export class JobFencedError extends ManagedJobsError {
  override readonly name = 'JobFencedError';
  constructor(readonly jobId: string) {
    super(JOB_FENCED(jobId));
  }
}

/** The reason `ctx.signal` is aborted with, and what `ctx.throwIfStopped()` throws. */
export class JobInterruptedError extends ManagedJobsError {
  override readonly name = 'JobInterruptedError';
  constructor(
    readonly reason: 'stopped' | 'timeout' | 'shutdown' | 'lost',
    message: string,
  ) {
    super(message);
  }
}

/** A module option or a job declaration is wrong; thrown at bootstrap. */
export class ManagedJobsConfigurationError extends ManagedJobsError {
  override readonly name = 'ManagedJobsConfigurationError';
}

/**
 * A unique, concurrency or rate-limit key (from `dispatch(…, { uniqueKey })` or the job's key
 * function) that is not a non-empty string of at most 255 characters. Nothing was written.
 */
export class InvalidJobKeyError extends ManagedJobsError {
  override readonly name = 'InvalidJobKeyError';
  constructor(
    readonly jobName: string,
    readonly option: 'unique' | 'concurrency' | 'rateLimit',
    got: unknown,
  ) {
    super(INVALID_JOB_KEY(jobName, option, got));
  }
}

/**
 * `retry()` of a unique job while another job of its type holds its unique key: nothing changed.
 * A `JobStateConflictError` (HTTP 409); `holderId` is the job that holds the key, when known.
 */
export class UniqueKeyHeldError extends JobStateConflictError {
  override readonly name = 'UniqueKeyHeldError';
  constructor(jobId: string, status: string, readonly holderId: string | null) {
    super(jobId, status, 'retry');
    this.message = UNIQUE_HOLDER_EXISTS(jobId, holderId ?? 'another job');
  }
}
