import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { INVALID_S3_OPTION } from '../managed-jobs.messages.js';
import { unstorableText } from '../services/json-safety.js';
import { UnsafeFilePathError } from './unsafe-file-path.error.js';

/**
 * Object keys of the S3 driver. A stored path is relative to the prefix; the key is prefix + path.
 *
 * Keys are compared byte for byte by S3, but proxies, SDKs and S3-compatible servers differ on
 * `.`/`..` segments, `//` and `\`, so a path holding any of them is refused rather than
 * normalised: what the library stores is exactly the key it wrote. The one absolute form is the
 * object's URI, `s3://<bucket>/<key>`, accepted when the key is under the prefix (the S3 form of
 * the local driver's absolute paths inside its root).
 */

/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
const CONTROL = /[\x00-\x1f\x7f\\]/;

/** The prefix as the driver uses it: no leading `/`, a trailing `/` unless empty. */
export function normalisePrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw new ManagedJobsConfigurationError(INVALID_S3_OPTION('prefix', 'it must be a string'));
  const trimmed = prefix.replace(/^\/+/, '');
  if (trimmed === '') return '';
  const withSlash = trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  if (!safeSegments(withSlash.slice(0, -1))) {
    throw new ManagedJobsConfigurationError(INVALID_S3_OPTION('prefix', 'it may not hold empty, "." or ".." segments, a backslash or control characters'));
  }
  return withSlash;
}

/** The path relative to `prefix` that `path` names, or `UnsafeFilePathError`. */
export function relativeKey(path: string, bucket: string, prefix: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new UnsafeFilePathError(String(path));
  let rel = path;
  if (path.startsWith('s3://')) {
    const uri = `s3://${bucket}/${prefix}`;
    if (!path.startsWith(uri)) throw new UnsafeFilePathError(path);
    rel = path.slice(uri.length);
  }
  if (!safeSegments(rel) || Buffer.byteLength(prefix + rel, 'utf8') > MAX_KEY_BYTES) throw new UnsafeFilePathError(path);
  return rel;
}

function safeSegments(path: string): boolean {
  if (path.length === 0 || CONTROL.test(path) || unstorableText(path) !== null) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
