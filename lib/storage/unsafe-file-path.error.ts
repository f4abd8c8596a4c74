import { UNSAFE_FILE_PATH } from '../managed-jobs.messages.js';
import { ManagedJobsError } from '../errors/managed-jobs.errors.js';

/** A path given to storage escapes the root (or the key prefix), or is malformed. Nothing was read or written. */
export class UnsafeFilePathError extends ManagedJobsError {
  override readonly name = 'UnsafeFilePathError';
  constructor(readonly path: string) {
    super(UNSAFE_FILE_PATH());
  }
}
