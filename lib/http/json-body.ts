import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../services/json-safety.js';

/** How long a refused body may keep arriving before the connection is simply dropped. */
const DRAIN_TIMEOUT_MS = 5_000;

/** `application/json`, or a `+json` type, with or without parameters. */
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

function unsupported(): UnsupportedMediaTypeException {
  return new UnsupportedMediaTypeException('The request must be JSON (Content-Type: application/json).');
}

/**
 * The CSRF rule: a state-changing request must say it is JSON. A cross-site page can send a form
 * (`application/x-www-form-urlencoded`, `multipart/form-data`) or `text/plain` without asking
 * the server first, but not `application/json`. So anything else, no content type included, is
 * 415 before anything is read or written, whatever body parsers the app has turned on (Nest's
 * default form parser would otherwise hand us a form as if it were JSON).
 */
export async function assertJsonRequest(req: any): Promise<void> {
  const raw: IncomingMessage = req.raw ?? req;
  if (JSON_TYPE.test(String(raw.headers['content-type'] ?? ''))) return;
  await drain(raw);
  throw unsupported();
}

/**
 * The JSON body of a request, at most `limit` bytes, whether or not a global body parser ran.
 *
 * - Not declared JSON → 415 (`assertJsonRequest`).
 * - Declared too big (`Content-Length`) → 413 before reading anything.
 * - Already parsed by the app's parser (whose own limit may be larger than ours): the parsed
 *   value, re-measured as JSON, must fit too (catches chunked or compressed bodies) → else 413.
 * - Not parsed (the app turned the parser off): we read the stream ourselves, counting bytes, and
 *   stop at the limit → 413.
 * - Nested deeper than `MAX_JSON_DEPTH` → 400 (measuring it as JSON would overflow the stack).
 */
export async function readJsonBody(req: any, limit: number): Promise<unknown> {
  await assertJsonRequest(req);
  const raw: IncomingMessage = req.raw ?? req;
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    await drain(raw);
    throw tooLarge(limit);
  }
  if (req.body !== undefined) {
    assertDepth(req.body);
    if (Buffer.byteLength(JSON.stringify(req.body) ?? '') > limit) throw tooLarge(limit);
    return req.body;
  }
  if (!hasBody(raw)) return undefined;
  if ((raw.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity') {
    await drain(raw);
    throw new UnsupportedMediaTypeException('Compressed bodies are not accepted.');
  }
  const text = await readLimited(raw, limit);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequestException('The body is not valid JSON.');
  }
  assertDepth(body);
  return body;
}

function assertDepth(body: unknown): void {
  if (nestedDeeperThan(body, MAX_JSON_DEPTH)) throw new BadRequestException(`The body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
}

function tooLarge(limit: number): PayloadTooLargeException {
  return new PayloadTooLargeException(`The body is larger than ${limit} bytes.`);
}

/** Collects at most `limit` bytes; past it, the rest is discarded as it arrives and the result is 413. */
function readLimited(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      chunks.length = 0;
      // Past the limit: discard what still comes, for a bounded time.
      timer ??= setTimeout(() => req.destroy(), DRAIN_TIMEOUT_MS);
    });
    req.once('end', () => {
      clearTimeout(timer);
      if (size > limit) reject(tooLarge(limit));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(size > limit ? tooLarge(limit) : error);
    });
    req.once('close', () => {
      clearTimeout(timer);
      if (!req.readableEnded) reject(size > limit ? tooLarge(limit) : new Error('The request was aborted.'));
    });
  });
}

/**
 * Let the rest of a refused body arrive (discarded, never buffered) so the client reads our
 * 413/415 instead of a reset connection; a client that keeps sending is cut off.
 */
function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      req.destroy();
      done();
    }, DRAIN_TIMEOUT_MS);
    req.once('end', done).once('close', done).once('error', done);
    req.resume();
  });
}
