/** The wake-up signal (MySQL/MariaDB have no NOTIFY): see `notifier.ts`. */
import type { Sql } from './common.sql.js';

/**
 * What a worker polls: the newest job id (UUIDv7 ids grow with time, so any dispatch from any
 * process, committed by us or by a caller's transaction, moves it: a one-row read at the end of
 * the primary key) and the change counter that the other wake-ups bump (release, retry, stop).
 */
export function wakeState(): Sql {
  return { text: `SELECT (SELECT MAX(job_id) FROM managed_jobs) AS last_job, (SELECT version FROM managed_job_wakeups WHERE id = 1) AS version`, values: [] };
}

/** Bumped by the writes that make work without inserting a job; in their own transaction. */
export function bumpWakeups(): Sql {
  return { text: `UPDATE managed_job_wakeups SET version = version + 1 WHERE id = 1`, values: [] };
}
