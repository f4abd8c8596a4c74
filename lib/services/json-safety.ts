/**
 * What every JSON value we store must be, on every database alike: no NUL character (PostgreSQL's
 * `jsonb` and `text` refuse it), no lone UTF-16 surrogate (`jsonb` refuses the `\ud800` escape
 * JSON.stringify writes for one), and at most `MAX_JSON_DEPTH` levels deep (deeper values overflow
 * the stack of recursive code on the way: class-transformer, JSON.stringify). Checked before
 * anything is written, so SQLite and PostgreSQL refuse the same values with the same error.
 */
import type { PayloadViolation } from '../errors/managed-jobs.errors.js';

/** Nesting levels a stored JSON value may have. */
export const MAX_JSON_DEPTH = 64;

/** At most this many violations are reported for one value. */
const MAX_VIOLATIONS = 10;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string (or key) that cannot be stored: why, or null when it can. */
export function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must not contain lone UTF-16 surrogates';
  return null;
}

function violation(property: string, name: string, message: string): PayloadViolation {
  return { property, constraints: { [name]: message } };
}

/**
 * The places in `value` that cannot be stored, each named by its property path (`items.2.name`).
 * Iterative: a value nested 100,000 levels deep is refused, never a stack overflow.
 */
export function jsonViolations(value: unknown, root = ''): PayloadViolation[] {
  const found: PayloadViolation[] = [];
  const stack: Array<[unknown, string, number]> = [[value, root, 0]];
  while (stack.length && found.length < MAX_VIOLATIONS) {
    const [item, path, depth] = stack.pop()!;
    if (typeof item === 'string') {
      const why = unstorableText(item);
      if (why) found.push(violation(path, 'storableText', `${path || 'value'} ${why}`));
      continue;
    }
    if (!item || typeof item !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      found.push(violation(path, 'maxDepth', `${path || 'value'} is nested deeper than ${MAX_JSON_DEPTH} levels`));
      continue;
    }
    for (const key of Object.keys(item)) {
      const property = path ? `${path}.${key}` : key;
      const why = unstorableText(key);
      if (why) found.push(violation(printable(property), 'storableText', `key ${printable(key)} ${why}`));
      else stack.push([(item as Record<string, unknown>)[key], property, depth + 1]);
    }
  }
  return found;
}

/** A name safe to show in a message (NUL and lone surrogates written as escapes). */
function printable(text: string): string {
  return text.replaceAll('\u0000', '\\0').replace(new RegExp(LONE_SURROGATE, 'g'), '\ufffd');
}

/** Whether `value` has more than `max` levels of objects or arrays (iterative). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (!item || typeof item !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) if (child && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
