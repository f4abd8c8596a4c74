/**
 * Cron evaluation, by croner (5 or 6 fields, seconds first; IANA time zones; DST by its rules: a
 * fixed-time job in a spring-forward gap runs at the first valid time after it, and once on a
 * fall-back repeated hour; an interval job skips the gap and runs in both repeated hours).
 * Only pure date maths here: no timers (croner is used with `paused: true` and never started).
 */
import { Cron } from 'croner';
import { InvalidScheduleError } from '../errors/schedule.errors.js';

/** A parsed cron in a time zone. */
export interface CronSchedule {
  readonly cron: string;
  readonly timezone: string;
  /** The first occurrence strictly after `after`, or null when there is none (a past-only pattern). */
  next(after: Date): Date | null;
  /** Up to `count` occurrences strictly before `before`, newest first. */
  previous(count: number, before: Date): Date[];
}

/** Parses and checks a cron and time zone, or throws `InvalidScheduleError` naming the schedule. */
export function parseCron(name: string, cron: string, timezone = 'UTC'): CronSchedule {
  if (typeof cron !== 'string' || !cron.trim()) throw new InvalidScheduleError(name, 'the cron expression is empty.');
  checkTimezone(name, timezone);
  let pattern: Cron;
  try {
    pattern = new Cron(cron.trim(), { paused: true, timezone, mode: '5-or-6-parts' });
  } catch (error) {
    throw new InvalidScheduleError(name, `the cron ${JSON.stringify(cron)} cannot be parsed (${(error as Error).message}).`);
  }
  return {
    cron: cron.trim(),
    timezone,
    next: (after) => pattern.nextRun(after),
    previous: (count, before) => pattern.previousRuns(count, before),
  };
}

/** An IANA name the runtime knows (`Intl` is what croner converts with). */
function checkTimezone(name: string, timezone: string): void {
  if (typeof timezone !== 'string' || !timezone) throw new InvalidScheduleError(name, 'the time zone is empty.');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidScheduleError(name, `${JSON.stringify(timezone)} is not a known IANA time zone.`);
  }
}
