/**
 * The queue-control options of a job (`unique`, `concurrency`, `rateLimit`): checked once at boot
 * (`resolveQueueControl`, a bad option fails the boot naming the job), and turned into the keys
 * a dispatch stores (`jobKeys`, a bad key refuses the dispatch before anything is written).
 */
import { InvalidJobKeyError, ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import type { KeyFn, KeyFnJob, QueueControl } from '../interfaces/queue-control.interface.js';
import type { ManagedJobOptions } from '../interfaces/managed-job-options.interface.js';
import { INVALID_QUEUE_CONTROL } from '../managed-jobs.messages.js';

/** Keys are stored in `varchar(255)` columns. */
export const MAX_KEY_LENGTH = 255;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function resolveQueueControl(options: ManagedJobOptions, className: string): QueueControl {
  const bad = (option: string, rule: string, got: unknown) => new ManagedJobsConfigurationError(INVALID_QUEUE_CONTROL(className, option, rule, got));
  const keyFn = (option: string, v: unknown): KeyFn | undefined => {
    if (v !== undefined && typeof v !== 'function') throw bad(`${option}.key`, 'a function (payload, job) => string', v);
    return v as KeyFn | undefined;
  };
  const control: QueueControl = { unique: null, concurrency: null, rateLimit: null };

  const u = options.unique;
  if (u === true) control.unique = { until: 'finished' };
  else if (isObject(u)) {
    const until = u.until ?? 'finished';
    if (until !== 'started' && until !== 'finished') throw bad('unique.until', `'started' or 'finished'`, until);
    control.unique = { key: keyFn('unique', u.key), until };
  } else if (u !== undefined && u !== false) throw bad('unique', 'a boolean or { key?, until? }', u);

  const c = options.concurrency;
  if (isObject(c)) {
    const limit = c.limit ?? 1;
    if (!Number.isInteger(limit) || (limit as number) < 1) throw bad('concurrency.limit', 'an integer ≥ 1', limit);
    control.concurrency = { limit: limit as number, key: keyFn('concurrency', c.key) };
  } else if (c !== undefined) throw bad('concurrency', '{ limit?, key? }', c);

  const r = options.rateLimit;
  if (isObject(r)) {
    if (!Number.isInteger(r.max) || (r.max as number) < 1) throw bad('rateLimit.max', 'an integer ≥ 1', r.max);
    if (typeof r.perSeconds !== 'number' || !Number.isFinite(r.perSeconds) || r.perSeconds <= 0) throw bad('rateLimit.perSeconds', 'a number of seconds > 0', r.perSeconds);
    control.rateLimit = { max: r.max as number, perSeconds: r.perSeconds, key: keyFn('rateLimit', r.key) };
  } else if (r !== undefined) throw bad('rateLimit', '{ max, perSeconds, key? }', r);
  return control;
}

/** Whether a dispatch of this type stores keys. */
export const hasQueueControl = (c: QueueControl | undefined): boolean => !!(c && (c.unique || c.concurrency || c.rateLimit));

/** Whether jobs of this type are claimed by the limited claim (concurrency or rate limit). */
export const isLimited = (control: QueueControl | undefined): boolean => !!(control?.concurrency || control?.rateLimit);

export interface JobKeys {
  uniqueKey: string | null;
  uniqueUntil: 'started' | 'finished' | null;
  concurrencyKey: string | null;
  rateKey: string | null;
  rateSlots: number;
}

/**
 * The keys one dispatch stores, or undefined for a plain job (no option, no `uniqueKey`: the
 * plain insert, unchanged). `uniqueKey`: `dispatch(…, { uniqueKey })`, which makes any job unique.
 */
export function jobKeys(jobName: string, control: QueueControl | undefined, payload: unknown, job: KeyFnJob, uniqueKey: unknown): JobKeys | undefined {
  if (uniqueKey === undefined && (!control || (!control.unique && !control.concurrency && !control.rateLimit))) return undefined;
  const { unique, concurrency, rateLimit } = control ?? { unique: null, concurrency: null, rateLimit: null };
  const keyOf = (option: 'unique' | 'concurrency' | 'rateLimit', fn: KeyFn | undefined) => checkKey(jobName, option, fn ? fn(payload, job) : jobName);
  return {
    uniqueKey: uniqueKey !== undefined ? checkKey(jobName, 'unique', uniqueKey) : unique ? keyOf('unique', unique.key) : null,
    uniqueUntil: uniqueKey !== undefined || unique ? (unique?.until ?? 'finished') : null,
    concurrencyKey: concurrency ? keyOf('concurrency', concurrency.key) : null,
    rateKey: rateLimit ? keyOf('rateLimit', rateLimit.key) : null,
    rateSlots: rateLimit?.max ?? 0,
  };
}

/**
 * A key is a string of at most 255 characters. A unique key must not be empty (an empty one is a
 * mistake: it would make every such job one); a concurrency or rate key may be: it is a group like
 * any other, as in `key: (_, job) => job.ownerTenantId ?? ''` (the jobs without a tenant).
 */
function checkKey(jobName: string, option: 'unique' | 'concurrency' | 'rateLimit', key: unknown): string {
  if (typeof key !== 'string' || (key.length === 0 && option === 'unique') || key.length > MAX_KEY_LENGTH) throw new InvalidJobKeyError(jobName, option, key);
  return key;
}
