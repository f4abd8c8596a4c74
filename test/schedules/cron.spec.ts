/** Cron maths and the catch-up plan: pure, no database. */
import { InvalidScheduleError } from '../../lib/index.js';
import { parseCron } from '../../lib/schedules/cron.js';
import { MAX_CATCH_UP, MISFIRE_THRESHOLD_MS, planFiring } from '../../lib/schedules/fire-plan.js';

const at = (iso: string) => new Date(iso);

describe('cron evaluation', () => {
  it('reads 5 fields (minutes first) and 6 fields (seconds first)', () => {
    expect(parseCron('s', '*/15 * * * *').next(at('2026-01-01T10:07:30Z'))).toEqual(at('2026-01-01T10:15:00Z'));
    expect(parseCron('s', '*/20 * * * * *').next(at('2026-01-01T10:07:30Z'))).toEqual(at('2026-01-01T10:07:40Z'));
    // Strictly after: an occurrence is never returned twice.
    expect(parseCron('s', '0 * * * * *').next(at('2026-01-01T10:07:00Z'))).toEqual(at('2026-01-01T10:08:00Z'));
  });

  it('computes the next run across the spring-forward gap (Europe/Berlin, 29 March 2026)', () => {
    const daily = parseCron('s', '30 2 * * *', 'Europe/Berlin'); // 02:30 does not exist that night
    expect(daily.next(at('2026-03-28T12:00:00Z'))).toEqual(at('2026-03-29T01:00:00Z')); // 03:00 CEST, first valid time
    expect(daily.next(at('2026-03-29T01:00:00Z'))).toEqual(at('2026-03-30T00:30:00Z')); // 02:30 CEST the next day
    const nine = parseCron('s', '0 9 * * *', 'Europe/Berlin');
    expect(nine.next(at('2026-03-28T09:00:00Z'))).toEqual(at('2026-03-29T07:00:00Z')); // 09:00 CEST = 07:00Z (was 08:00Z)
    // Interval jobs skip the missing hour.
    const half = parseCron('s', '*/30 * * * *', 'Europe/Berlin');
    expect(half.next(at('2026-03-29T00:30:00Z'))).toEqual(at('2026-03-29T01:00:00Z')); // 01:30 CET → 03:00 CEST
  });

  it('runs a fixed-time job once on the fall-back repeated hour (America/New_York, 1 November 2026)', () => {
    const daily = parseCron('s', '30 1 * * *', 'America/New_York');
    const first = daily.next(at('2026-10-31T12:00:00Z'))!;
    expect(first).toEqual(at('2026-11-01T05:30:00Z')); // 01:30 EDT
    expect(daily.next(first)).toEqual(at('2026-11-02T06:30:00Z')); // not again at 01:30 EST
  });

  it('refuses a bad cron or time zone with InvalidScheduleError', () => {
    for (const [cron, tz] of [
      ['', 'UTC'],
      ['* * *', 'UTC'],
      ['* * * * * * *', 'UTC'],
      ['99 * * * *', 'UTC'],
      ['0 3 * * *', 'Nowhere/Land'],
      ['0 3 * * *', ''],
    ]) {
      const error = (() => {
        try {
          parseCron('daily', cron, tz);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidScheduleError);
      expect((error as InvalidScheduleError).scheduleName).toBe('daily');
    }
  });
});

describe('catch-up plan', () => {
  const everySecond = parseCron('s', '* * * * * *');
  const hourly = parseCron('s', '0 0 * * * *');
  const now = at('2026-01-01T12:30:00.400Z');

  it('fires the due occurrence, and every due one when merely late (within the misfire threshold), whatever the policy', () => {
    for (const policy of ['none', 'latest', 'all'] as const) {
      expect(planFiring(everySecond, at('2026-01-01T12:30:00Z'), now, policy, false)).toEqual({
        occurrences: [at('2026-01-01T12:30:00Z')],
        next: at('2026-01-01T12:30:01Z'),
        skipped: 0,
      });
      const late = planFiring(everySecond, at('2026-01-01T12:29:57Z'), now, policy, false);
      expect(late.occurrences).toHaveLength(4);
      expect(late.skipped).toBe(0);
    }
  });

  it('after downtime: none skips, latest runs the newest, all runs each (the latest 100 at most)', () => {
    const due = at('2026-01-01T07:00:00Z'); // 6 hourly occurrences missed: 07:00 … 12:00
    expect(now.getTime() - due.getTime()).toBeGreaterThan(MISFIRE_THRESHOLD_MS);
    expect(planFiring(hourly, due, now, 'none', false)).toEqual({ occurrences: [], next: at('2026-01-01T13:00:00Z'), skipped: 6 });
    expect(planFiring(hourly, due, now, 'latest', false)).toEqual({ occurrences: [at('2026-01-01T12:00:00Z')], next: at('2026-01-01T13:00:00Z'), skipped: 5 });
    const all = planFiring(hourly, due, now, 'all', false);
    expect(all.occurrences.map((d) => d.getUTCHours())).toEqual([7, 8, 9, 10, 11, 12]);
    const long = planFiring(hourly, at('2025-12-20T00:00:00Z'), now, 'all', false); // 12.5 days: 301 occurrences
    expect(long.occurrences).toHaveLength(MAX_CATCH_UP);
    expect(long.occurrences.at(-1)).toEqual(at('2026-01-01T12:00:00Z'));
    expect(long.skipped).toBe(301 - MAX_CATCH_UP);
    // overlap 'skip' keeps one: occurrences fired together would overlap each other.
    expect(planFiring(hourly, due, now, 'all', true).occurrences).toEqual([at('2026-01-01T12:00:00Z')]);
  });
});
