import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/** How long a refused body may keep arriving before the connection is simply dropped. */
const DRAIN_TIMEOUT_MS = 5_000;

/**
 * The JSON body of a request, at most `limit` bytes, whether or not a global body parser ran.
 *
 * - Declared too big (`Content-Length`) → 413 before reading anything.
 * - Already parsed by the app's parser (whose own limit may be larger than ours): the parsed
 *   value, re-measured as JSON, must fit too (catches chunked or compressed bodies) → else 413.
 * - Not parsed (the app turned the parser off, or the content type was not JSON): we read the
 *   stream ourselves, counting bytes, and stop at the limit → 413; non-JSON content → 415.
 */
export async function readJsonBody(req: any, limit: number): Promise<unknown> {
  const raw: IncomingMessage = req.raw ?? req;
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    await drain(raw);
    throw tooLarge(limit);
  }
  if (req.body !== undefined) {
    if (Buffer.byteLength(JSON.stringify(req.body) ?? '') > limit) throw tooLarge(limit);
    return req.body;
  }
  if (!hasBody(raw)) return undefined;
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(String(raw.headers['content-type'] ?? ''))) {
    await drain(raw);
    throw new UnsupportedMediaTypeException('The body must be JSON (Content-Type: application/json).');
  }
  if ((raw.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity') {
    await drain(raw);
    throw new UnsupportedMediaTypeException('Compressed bodies are not accepted.');
  }
  const text = await readLimited(raw, limit);
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestException('The body is not valid JSON.');
  }
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
