/**
 * The claim of a concurrency- or rate-limited job type, the same on every dialect: a plan of
 * steps (each one statement) that a store runs inside one transaction, asynchronously
 * (PostgreSQL, MySQL/MariaDB: `runLimitedClaim`) or synchronously (SQLite: `runLimitedClaimSync`).
 * PostgreSQL runs a concurrency-keyed claim (no rate limit) server-side instead, the same steps in
 * one statement: `managed_jobs_claim_keyed` (lib/migrations/postgres-keyed-claim.migration.ts).
 *
 * Design note (why not the plain claim with a filter):
 * - The unit of work is a *key*, not a job. `managed_job_keys` has one row per (type, key); a
 *   claim locks up to a few keys that have due jobs (SKIP LOCKED: claimers work disjoint keys),
 *   least recently served first (round-robin between keys, rotated by `served_at`).
 * - The next statement, whose snapshot is newer than the lock, counts the key's running runs (or
 *   free rate tokens) from a partial index and reads only as many of its pending jobs as there is
 *   room for: a busy key with 100k pending jobs costs the same as one with one job, and nothing
 *   else can claim for that key until we commit. No counters are kept, so no status change
 *   anywhere (completion, failure, stop, reaper, operator, manual SQL) needs to maintain one, and
 *   completions never wait on key rows (no deadlocks between batches of completions).
 * - Rate limits are tokens: `max` rows per (type, rate key), each free when `until` has passed;
 *   a start takes one and sets `until = now + perSeconds`. Each start holds a token for exactly
 *   one window, which is exactly "at most `max` starts in any sliding window". When a key has due
 *   jobs but no token, the claim says when the first one frees up (`retryAt`), and the worker
 *   sleeps until then.
 */
import type { LimitedClaimRequest } from './job-store.interface.js';

export type KeyColumn = 'concurrency_key' | 'rate_key';

/** A picked job: locked, not yet claimed. */
export interface PickedJob {
  job_id: string;
  key_name: string;
  rate_key: string | null;
}

export type LimitedClaimStep =
  | { op: 'lockKeys'; column: KeyColumn; count: number }
  | { op: 'pick'; column: KeyColumn; keys: string[] }
  | { op: 'takeTokens'; rateKey: string; count: number }
  | { op: 'nextToken'; rateKeys: string[] }
  | { op: 'claim'; jobIds: string[]; /** the keys served */ keys: string[] };

/** What each step returns: keys (string[]), picks (PickedJob[]), tokens taken (number), a moment (UTC text or null), claimed rows. */
export interface LimitedClaimResult {
  rows: any[];
  /** UTC text of the next free token of a waiting key, or null. */
  retryAt: string | null;
}

/** Keys locked per claim: enough for `limit` jobs even when half the keys are busy. */
export function keysToLock(c: LimitedClaimRequest): number {
  const perKey = c.concurrency ?? c.rate!.max;
  return Math.min(500, 2 * Math.ceil(c.limit / perKey) + 2);
}

/**
 * The order picks are taken in (for stores that pick key by key: MySQL/MariaDB; PostgreSQL and
 * SQLite order them in their pick statement the same way): priority first; within a
 * priority, round-robin: each key's first job in the keys' turn (as locked: least recently served
 * first), then each key's second, and so on. `picks` arrive key by key, in claim order within a key.
 */
export function roundRobin<T extends PickedJob & { priority: number | string }>(picks: T[], keys: string[]): T[] {
  const turn = new Map(keys.map((k, i) => [k, i]));
  const nth = new Map<string, number>();
  const ranked = picks.map((p) => {
    const n = nth.get(p.key_name) ?? 0;
    nth.set(p.key_name, n + 1);
    return { p, n, priority: Number(p.priority), turn: turn.get(p.key_name) ?? 0 };
  });
  ranked.sort((a, b) => b.priority - a.priority || a.n - b.n || a.turn - b.turn);
  return ranked.map((r) => r.p);
}

function* plan(c: LimitedClaimRequest): Generator<LimitedClaimStep, LimitedClaimResult, any> {
  const column: KeyColumn = c.concurrency ? 'concurrency_key' : 'rate_key';
  const keys: string[] = yield { op: 'lockKeys', column, count: keysToLock(c) };
  if (!keys.length) return { rows: [], retryAt: null };
  let picks: PickedJob[] = yield { op: 'pick', column, keys };
  let waiting: string[] = [];
  if (c.rate) {
    // Rate limit only: a locked key without picks has due jobs but no free token.
    if (!c.concurrency) waiting = keys.filter((k) => !picks.some((p) => p.key_name === k));
    const byRateKey = new Map<string, PickedJob[]>();
    for (const p of picks) {
      const list = byRateKey.get(p.rate_key!) ?? [];
      list.push(p);
      byRateKey.set(p.rate_key!, list);
    }
    const kept = new Set<string>();
    for (const [rateKey, list] of byRateKey) {
      const taken: number = yield { op: 'takeTokens', rateKey, count: list.length };
      for (const p of list.slice(0, taken)) kept.add(p.job_id);
      if (taken < list.length) waiting.push(rateKey);
    }
    picks = picks.filter((p) => kept.has(p.job_id));
  }
  const retryAt: string | null = waiting.length ? yield { op: 'nextToken', rateKeys: waiting } : null;
  if (!picks.length) return { rows: [], retryAt };
  // Served: the keys that got jobs go to the back of the round.
  const rows: any[] = yield { op: 'claim', jobIds: picks.map((p) => p.job_id), keys: [...new Set(picks.map((p) => p.key_name))] };
  return { rows, retryAt };
}

export async function runLimitedClaim(c: LimitedClaimRequest, exec: (step: LimitedClaimStep) => Promise<any>): Promise<LimitedClaimResult> {
  const steps = plan(c);
  let next = steps.next();
  while (!next.done) next = steps.next(await exec(next.value));
  return next.value;
}

export function runLimitedClaimSync(c: LimitedClaimRequest, exec: (step: LimitedClaimStep) => any): LimitedClaimResult {
  const steps = plan(c);
  let next = steps.next();
  while (!next.done) next = steps.next(exec(next.value));
  return next.value;
}
