/**
 * Checks a batch's items before anything is written: size, keys, dependencies (every `dependsOn`
 * names a member, no cycle), then turns the prepared job rows into what the creation program
 * writes: the member rows, their keys, the dependency edges and which members start `waiting`.
 */
import {
  BATCH_CYCLE,
  BATCH_DUPLICATE_KEY,
  BATCH_EMPTY,
  BATCH_INVALID_OPTION,
  BATCH_TOO_LARGE,
  BATCH_UNKNOWN_KEY,
} from '../managed-jobs.messages.js';
import { InvalidBatchError } from '../errors/workflow.errors.js';
import type { NewJob } from '../store/job-store.interface.js';
import type { BatchItem } from './batch.interfaces.js';

/** Members per `batch()`, `chain()` or `ctx.batch.add()` call. */
export const MAX_BATCH_ITEMS = 10_000;

export interface BatchPlan {
  members: NewJob[];
  keys: (string | null)[];
  /** `[jobId, dependsOnJobId]`. */
  edges: Array<[string, string]>;
  /** Members with dependencies: they start `waiting`. */
  waiting: string[];
}

/** `chain()`: each item depends on the one before (items without a key get their index as key). */
export function chained(items: BatchItem[]): BatchItem[] {
  const keyed = items.map((item, i) => ({ ...item, key: item.key ?? String(i) }));
  return keyed.map((item, i) => (i === 0 ? item : { ...item, dependsOn: [...(item.dependsOn ?? []), keyed[i - 1].key] }));
}

/**
 * Throws `InvalidBatchError` for an empty or oversized list, a duplicate key, a `dependsOn` that
 * names no member (nor one of `existing`, the keys already in the batch), or a cycle.
 */
export function checkItems(items: BatchItem[], existing: ReadonlySet<string> = new Set()): void {
  if (!Array.isArray(items) || !items.length) throw new InvalidBatchError('empty', BATCH_EMPTY());
  if (items.length > MAX_BATCH_ITEMS) throw new InvalidBatchError('tooLarge', BATCH_TOO_LARGE(items.length, MAX_BATCH_ITEMS));
  const keys = new Set<string>();
  for (const item of items) {
    if (item.key === undefined) continue;
    if (typeof item.key !== 'string' || !item.key.length || item.key.length > 255) {
      throw new InvalidBatchError('invalidOption', BATCH_INVALID_OPTION('item keys', 'non-empty strings of at most 255 characters'));
    }
    if (keys.has(item.key) || existing.has(item.key)) throw new InvalidBatchError('duplicateKey', BATCH_DUPLICATE_KEY(item.key));
    keys.add(item.key);
  }
  items.forEach((item, i) => {
    if (item.dependsOn !== undefined && !Array.isArray(item.dependsOn)) {
      throw new InvalidBatchError('invalidOption', BATCH_INVALID_OPTION('dependsOn', 'an array of keys'));
    }
    for (const dep of item.dependsOn ?? []) {
      if (!keys.has(dep) && !existing.has(dep)) throw new InvalidBatchError('unknownKey', BATCH_UNKNOWN_KEY(String(dep), item.key ?? `#${i}`));
    }
  });
  const cycle = findCycle(items);
  if (cycle) throw new InvalidBatchError('cycle', BATCH_CYCLE(cycle));
}

/** A cycle among the items' keys (as a path that ends where it starts), or null. Depth-first, iterative. */
function findCycle(items: BatchItem[]): string[] | null {
  const deps = new Map<string, string[]>();
  for (const item of items) if (item.key !== undefined) deps.set(item.key, (item.dependsOn ?? []).filter((d) => d !== undefined));
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  for (const start of deps.keys()) {
    if (state.has(start)) continue;
    const stack: Array<{ key: string; next: number }> = [{ key: start, next: 0 }];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const children = deps.get(top.key) ?? [];
      if (top.next >= children.length) {
        state.set(top.key, 2);
        stack.pop();
        continue;
      }
      const child = children[top.next++];
      if (!deps.has(child)) continue; // an existing member: no edge back into the new ones
      if (state.get(child) === 1) {
        const path = stack.map((s) => s.key);
        return [...path.slice(path.indexOf(child)), child];
      }
      if (!state.has(child)) {
        state.set(child, 1);
        stack.push({ key: child, next: 0 });
      }
    }
  }
  // An item that depends on itself without a key cannot exist (dependsOn names keys).
  return null;
}

/** The rows to write, given the items and their prepared jobs (same order); `existing`: key → job id. */
export function planMembers(items: BatchItem[], rows: NewJob[], existing: ReadonlyMap<string, string> = new Map()): BatchPlan {
  const idOf = new Map(existing);
  items.forEach((item, i) => item.key !== undefined && idOf.set(item.key, rows[i].jobId));
  const edges: Array<[string, string]> = [];
  const waiting: string[] = [];
  items.forEach((item, i) => {
    const deps = [...new Set(item.dependsOn ?? [])];
    for (const dep of deps) edges.push([rows[i].jobId, idOf.get(dep)!]);
    if (deps.length) waiting.push(rows[i].jobId);
  });
  return { members: rows, keys: items.map((item) => item.key ?? null), edges, waiting };
}
