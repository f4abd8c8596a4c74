/**
 * `Content-Disposition: attachment` for any file name (RFC 6266): an ASCII-only quoted
 * `filename` fallback for old clients, and the exact name in `filename*` (RFC 5987, UTF-8,
 * percent-encoded). Quotes, backslashes, `;`, `%`, CR/LF and every other control or non-ASCII
 * character can never break out of the header: they are replaced in the fallback and
 * percent-encoded in `filename*`. Hand-written (a dozen lines) and covered by hostile-name tests.
 */
export function attachmentDisposition(filename: string): string {
  const name = String(filename ?? '') || 'download';
  return `attachment; filename="${asciiFallback(name)}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

function asciiFallback(name: string): string {
  const ascii = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // drop combining accents: "é" → "e"
    .replace(/[^\x20-\x7e]|["\\%;]/g, '_')
    .trim();
  return ascii || 'download';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `encodeURIComponent` leaves `'()*` as is; RFC 5987 attr-char does not allow them. */
function encodeRfc5987(name: string): string {
  return encodeURIComponent(name.replace(LONE_SURROGATE, '\uFFFD')).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const MIME_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;\s*[\w!#$&^.+-]+=(?:[\w!#$&^.+-]+|"[\x20\x21\x23-\x5b\x5d-\x7e]*"))*$/;

/** The stored MIME type when it is a well-formed one, else `application/octet-stream`. */
export function safeContentType(mimeType: string | null | undefined): string {
  return typeof mimeType === 'string' && mimeType.length <= 255 && MIME_TYPE.test(mimeType) ? mimeType : 'application/octet-stream';
}
