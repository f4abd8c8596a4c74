/** The cluster lock: session advisory locks (PostgreSQL). */
import type { Sql } from './common.sql.js';

/** Session-level, so it is held across the statements of a run on one dedicated connection. */
export function tryAdvisoryLock(key: string): Sql {
  return { text: `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS acquired`, values: [key] };
}

export function advisoryUnlock(key: string): Sql {
  return { text: `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, values: [key] };
}
