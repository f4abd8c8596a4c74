import { InvalidJobValueError } from '../errors/managed-jobs.errors.js';
import { jsonViolations, unstorableText } from '../services/json-safety.js';

/**
 * JSON text of a value a job stores (result, state, step result), or null for `undefined`.
 * Throws `InvalidJobValueError` for what no database may hold, so SQLite and PostgreSQL refuse the
 * same values with the same error instead of PostgreSQL failing with its own.
 */
export function storedJson(what: string, value: unknown): string | null {
  if (value === undefined) return null;
  const violations = jsonViolations(value, what);
  if (violations.length) throw new InvalidJobValueError(what, violations);
  return JSON.stringify(value);
}

/** A progress message as stored: null, or text without NUL characters or lone surrogates. */
export function storedMessage(message: string | null | undefined): string | null {
  if (message === undefined || message === null) return null;
  const text = String(message);
  const why = unstorableText(text);
  if (why) throw new InvalidJobValueError('progress message', [{ property: 'message', constraints: { storableText: `message ${why}` } }]);
  return text;
}
