/**
 * A job's run policy: its own `@ManagedJob()` options over the module's `jobDefaults`, checked
 * once at boot so that a wrong value fails the boot with the option's name instead of surfacing
 * as an odd retry at run time.
 */
import type { BackoffFn, ManagedJobOptions } from '../interfaces/managed-job-options.interface.js';
import type { JobDefaults } from '../interfaces/managed-jobs-options.interface.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { ManagedJobsConfigurationError, ManagedJobsError } from '../errors/managed-jobs.errors.js';
import { INVALID_JOB_OPTION, RETRY_UNTIL_FAILED } from '../managed-jobs.messages.js';

/** What the worker and `dispatch()` read of a job's declaration, defaults applied. */
export interface RunPolicy {
  tries: number;
  /** Seconds per retry (the last repeating), or the job's function. */
  backoff: number[] | BackoffFn;
  timeoutSeconds?: number;
  failOnTimeout: boolean;
  retryUntil?: ManagedJobOptions['retryUntil'];
  stoppable: boolean;
}

/** Checks the module's `jobDefaults` on their own (a job without options of its own would take them). */
export function checkJobDefaults(defaults: JobDefaults): void {
  runPolicy('Option jobDefaults', {}, defaults);
}

/** `where` names the job in messages (`Job "export"`). */
export function runPolicy(where: string, own: ManagedJobOptions, defaults: JobDefaults): RunPolicy {
  const fail = (option: string, rule: string, got: unknown) => {
    throw new ManagedJobsConfigurationError(INVALID_JOB_OPTION(where, option, rule, got));
  };
  const tries = own.tries ?? defaults.tries ?? 1;
  if (!Number.isInteger(tries) || tries < 1) fail('tries', 'an integer ≥ 1', tries);
  const backoff = own.backoff ?? defaults.backoff ?? 0;
  const seconds = (s: unknown) => typeof s === 'number' && Number.isFinite(s) && s >= 0;
  if (typeof backoff !== 'function' && !(Array.isArray(backoff) ? backoff.length > 0 && backoff.every(seconds) : seconds(backoff))) {
    fail('backoff', 'seconds ≥ 0: a number, a non-empty array of numbers, or a function (attempt, error) => number', backoff);
  }
  const timeout = own.timeout ?? defaults.timeout;
  if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) fail('timeout', 'a number of seconds > 0', timeout);
  const failOnTimeout = own.failOnTimeout ?? defaults.failOnTimeout ?? false;
  if (typeof failOnTimeout !== 'boolean') fail('failOnTimeout', 'a boolean', failOnTimeout);
  if (own.retryUntil !== undefined && typeof own.retryUntil !== 'function') fail('retryUntil', 'a function (job) => Date', own.retryUntil);
  const stoppable = own.stoppable ?? true;
  if (typeof stoppable !== 'boolean') fail('stoppable', 'a boolean', stoppable);
  return {
    tries,
    backoff: typeof backoff === 'function' ? backoff : Array.isArray(backoff) ? [...backoff] : [backoff],
    timeoutSeconds: timeout,
    failOnTimeout,
    retryUntil: own.retryUntil,
    stoppable,
  };
}

/**
 * The job's `retryUntil` moment for a record about to be inserted (`job`: as `dispatch()` returns
 * it, with `createdAt` the host's clock). Anything but a valid Date refuses the dispatch (nothing written).
 */
export function retryUntilOf(name: string, retryUntil: NonNullable<RunPolicy['retryUntil']>, job: ManagedJobEntity): Date {
  let until: unknown;
  try {
    until = retryUntil(job);
  } catch (error) {
    throw new ManagedJobsError(RETRY_UNTIL_FAILED(name, `it threw: ${(error as Error)?.message ?? String(error)}`));
  }
  if (!(until instanceof Date) || Number.isNaN(until.getTime())) {
    throw new ManagedJobsError(RETRY_UNTIL_FAILED(name, `it returned ${String(until)}`));
  }
  return until;
}
