import { BATCH_NOT_FOUND, BATCH_NOT_RUNNING } from '../managed-jobs.messages.js';
import { ManagedJobsError } from './managed-jobs.errors.js';

/** Why a batch was refused (the message names the item or key). */
export type InvalidBatchProblem = 'empty' | 'tooLarge' | 'duplicateKey' | 'unknownKey' | 'cycle' | 'invalidOption' | 'unsupportedMember';

/**
 * `batch()`, `chain()` or `ctx.batch.add()` refused its items: nothing was written. An invalid
 * payload of any member is an `InvalidJobPayloadError` (with `memberIndex` set), as for `dispatch()`.
 */
export class InvalidBatchError extends ManagedJobsError {
  override readonly name = 'InvalidBatchError';
  constructor(
    readonly problem: InvalidBatchProblem,
    message: string,
  ) {
    super(message);
  }
}

/** No such batch, or it belongs to another owner (indistinguishable on purpose). */
export class BatchNotFoundError extends ManagedJobsError {
  override readonly name = 'BatchNotFoundError';
  constructor(readonly batchId: string) {
    super(BATCH_NOT_FOUND(batchId));
  }
}

/** `ctx.batch.add()` on a batch that has ended. */
export class BatchNotRunningError extends ManagedJobsError {
  override readonly name = 'BatchNotRunningError';
  constructor(
    readonly batchId: string,
    readonly status: string,
  ) {
    super(BATCH_NOT_RUNNING(batchId, status));
  }
}
