import type { NewJob } from './job-store.interface.js';

/**
 * The order a keyed insert of several rows takes their unique keys in, (type, unique key), the
 * same in every transaction: two concurrent groups of dispatches (dispatch-groups.ts) then never
 * wait on each other's keys crosswise, which would be a deadlock.
 */
export function byUniqueKey(a: NewJob, b: NewJob): number {
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  const x = a.keys?.uniqueKey ?? '';
  const y = b.keys?.uniqueKey ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
