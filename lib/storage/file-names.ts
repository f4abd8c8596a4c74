import { INVALID_FILE_NAME } from '../managed-jobs.messages.js';
import { ManagedJobsError } from '../errors/managed-jobs.errors.js';
import { unstorableText } from '../services/json-safety.js';

/** A file name given by a job is not a plain name (path separators, NUL, `..`, empty, too long). */
export class InvalidFileNameError extends ManagedJobsError {
  override readonly name = 'InvalidFileNameError';
  constructor(readonly filename: string) {
    super(INVALID_FILE_NAME(filename));
  }
}

/** A display name is any text without path separators or control characters, at most 255 chars. */
export function assertSafeFileName(name: string): void {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 255 ||
    name === '.' ||
    name === '..' ||
    /[/\\\x00-\x1f\x7f]/.test(name) ||
    unstorableText(name) !== null
  ) {
    throw new InvalidFileNameError(String(name));
  }
}

/** The on-disk name: the display name reduced to a conservative character set. */
export function storedFileName(name: string): string {
  const safe = name.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 100);
  return safe || 'file';
}
