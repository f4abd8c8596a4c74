/**
 * What one due schedule does now: which occurrences get a job and where `next_run_at` moves.
 * Pure (no clock, no database), so the catch-up rules are unit-tested on their own.
 *
 * "Missed" follows Quartz's misfire rule: the schedule misfired when its due occurrence is more
 * than `MISFIRE_THRESHOLD_MS` late (no worker ran for a while). A ticker that is merely late
 * (a busy event loop, a slow query) fires every due occurrence whatever the policy, so `none`
 * never drops an occurrence because of jitter; after a misfire, `catchUp` decides.
 */
import type { CronSchedule } from './cron.js';
import type { ScheduleCatchUp } from '../interfaces/schedule-options.interface.js';

/** How late the due occurrence may be before the schedule counts as having missed it. */
export const MISFIRE_THRESHOLD_MS = 60_000;
/** Most jobs one catch-up dispatches (`catchUp: 'all'`): the latest ones. */
export const MAX_CATCH_UP = 100;

export interface FirePlan {
  /** Occurrences that get one job each, oldest first. */
  occurrences: Date[];
  /** The new `next_run_at`: the first occurrence after now. */
  next: Date | null;
  /** Occurrences passed over without a job. */
  skipped: number;
}

export function planFiring(cron: CronSchedule, due: Date, now: Date, catchUp: ScheduleCatchUp, single: boolean): FirePlan {
  const next = cron.next(now);
  // Newest first, in (due, now]; `due` itself is added below (previous() is strictly before).
  const after = cron.previous(MAX_CATCH_UP, new Date(now.getTime() + 1)).filter((d) => d.getTime() > due.getTime());
  const dueToo = after.length < MAX_CATCH_UP;
  const all = (dueToo ? [...after, due] : after).reverse();
  const total = dueToo ? all.length : countAtLeast(cron, due, all[0]) + all.length;
  const misfired = now.getTime() - due.getTime() > MISFIRE_THRESHOLD_MS;
  let occurrences: Date[];
  if (!misfired) occurrences = all;
  else if (catchUp === 'none') occurrences = [];
  else if (catchUp === 'latest') occurrences = all.slice(-1);
  else occurrences = all;
  // overlap 'skip': occurrences fired together would overlap each other; keep the latest.
  if (single) occurrences = occurrences.slice(-1);
  return { occurrences, next, skipped: total - occurrences.length };
}

/** A lower bound of the occurrences in [due, before) (counted up to a small cap: only for `skipped`). */
function countAtLeast(cron: CronSchedule, due: Date, before: Date): number {
  let n = 0;
  for (let d: Date | null = due; d && d < before && n < 1000; d = cron.next(d)) n++;
  return n;
}
