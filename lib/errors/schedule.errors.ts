import { INVALID_SCHEDULE, SCHEDULE_NOT_FOUND } from '../managed-jobs.messages.js';
import { ManagedJobsError } from './managed-jobs.errors.js';

/**
 * A schedule that cannot work: a cron that does not parse, an unknown time zone, an unknown
 * `catchUp` / `overlap`, or a name taken by a one-off. Nothing was written; for a schedule declared
 * in code it fails the boot.
 */
export class InvalidScheduleError extends ManagedJobsError {
  override readonly name = 'InvalidScheduleError';
  constructor(
    readonly scheduleName: string,
    readonly reason: string,
  ) {
    super(INVALID_SCHEDULE(scheduleName, reason));
  }
}

/** No schedule has that name. */
export class ScheduleNotFoundError extends ManagedJobsError {
  override readonly name = 'ScheduleNotFoundError';
  constructor(readonly scheduleName: string) {
    super(SCHEDULE_NOT_FOUND(scheduleName));
  }
}
