import { BadRequestException } from '@nestjs/common';
import { JobStatus } from '../enums/job-status.enum.js';
import type { PayloadViolation } from '../errors/managed-jobs.errors.js';

/** `POST /jobs` body, checked. */
export interface DispatchRequest {
  type: string;
  payload: unknown;
}

/** `GET /jobs` query, checked. */
export interface ListRequest {
  page: number;
  limit: number;
  status?: JobStatus[];
  type?: string;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const STATUSES = new Set<string>(Object.values(JobStatus));
/** Values `?status=` may list (duplicates included): a longer list can only be an attack. */
const MAX_STATUS_VALUES = 50;

function violation(property: string, name: string, message: string): PayloadViolation {
  return { property, constraints: { [name]: message } };
}

export function badRequest(message: string, violations: PayloadViolation[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, violations });
}

/**
 * Anywhere in a parsed body: keys that could reach an object's prototype (`__proto__`,
 * `constructor`, `prototype`), and NUL characters (which PostgreSQL's `jsonb` cannot store, and
 * no legitimate payload needs). Iterative, so a deeply nested body cannot overflow the stack.
 */
export function unsafeBodyViolations(body: unknown): PayloadViolation[] {
  const found: PayloadViolation[] = [];
  const stack: Array<[unknown, string]> = [[body, '']];
  while (stack.length && found.length < 10) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string' && value.includes('\u0000')) found.push(violation(path, 'noNul', 'strings must not contain NUL characters'));
    if (!value || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      const property = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) found.push(violation(property, 'forbidden', `property ${key} is not allowed`));
      else if (key.includes('\u0000')) found.push(violation(property.replaceAll('\u0000', '\\0'), 'noNul', 'keys must not contain NUL characters'));
      else stack.push([(value as Record<string, unknown>)[key], property]);
    }
  }
  return found;
}

/** `{ type, payload }` and nothing else: an owner, queue or priority in the body is refused. */
export function parseDispatchRequest(body: unknown): DispatchRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The body must be a JSON object { type, payload }.', [violation('', 'isObject', 'body must be an object')]);
  }
  const violations = unsafeBodyViolations(body);
  for (const key of Object.keys(body)) {
    if (key !== 'type' && key !== 'payload' && !FORBIDDEN_KEYS.has(key)) {
      violations.push(violation(key, 'whitelistValidation', `property ${key} should not exist`));
    }
  }
  const { type, payload } = body as Record<string, unknown>;
  if (typeof type !== 'string' || type.length === 0 || type.length > 255) {
    violations.push(violation('type', 'isString', 'type must be the name of a job, 1 to 255 characters'));
  }
  if (violations.length) throw badRequest('The request body is invalid.', violations);
  return { type: type as string, payload: payload ?? null };
}

/** `?page=&limit=&status=&type=`; anything else in the query (say `ownerId`) is ignored. */
export function parseListRequest(query: Record<string, unknown>): ListRequest {
  const violations: PayloadViolation[] = [];
  const int = (name: string, fallback: number, max: number): number => {
    const raw = query[name];
    if (raw === undefined) return fallback;
    const value = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= 1 && value <= max)) violations.push(violation(name, 'range', `${name} must be an integer from 1 to ${max}`));
    return value;
  };
  const page = int('page', 1, 1_000_000);
  const limit = int('limit', 20, 100);
  let status: JobStatus[] | undefined;
  if (query.status !== undefined) {
    const parts = ([] as unknown[]).concat(query.status).flatMap((s) => (typeof s === 'string' ? s.split(',') : [s]));
    if (parts.length > MAX_STATUS_VALUES) {
      violations.push(violation('status', 'arrayMaxSize', `status lists at most ${MAX_STATUS_VALUES} values`));
    } else if (parts.every((s) => typeof s === 'string' && STATUSES.has(s))) {
      status = [...new Set(parts)] as JobStatus[];
    } else {
      violations.push(violation('status', 'isEnum', `status must be one of ${[...STATUSES].join(', ')}`));
    }
  }
  const type = query.type;
  if (type !== undefined && (typeof type !== 'string' || type.length === 0 || type.length > 255)) {
    violations.push(violation('type', 'isString', 'type must be a job name'));
  }
  if (violations.length) throw badRequest('The query is invalid.', violations);
  return { page, limit, status, type: type as string | undefined };
}
