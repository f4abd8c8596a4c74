/**
 * PostgreSQL statements of the store, one function per statement, each returning `{ text, values }`,
 * grouped by file: `jobs` (insert, read, a run's own writes), `claim`, `run-end` (every statement
 * that ends a run, with its ledger row), `scope`, `files`, `maintenance`, `notify`, `lock`.
 *
 * Design notes:
 * - Every timestamp is UTC from the database clock: `NOW` below. Worker clocks are never compared.
 * - Multi-row writes take parallel arrays and `unnest` them, so a batch is one round trip.
 * - The ledger (`managed_job_attempts`) gets one row per run, inserted by the statement that ends
 *   the run (completion, failure, release, stop, reaping) through a data-modifying CTE: auditing
 *   costs no extra round trip, and nothing at claim time. A run in progress is the job row itself
 *   (`fence`, `lease_owner`, `started_at`).
 * - Every write of a running worker matches `fence` and `status = 'running'`; a stopped,
 *   reassigned or reaped run changes nothing.
 */

export interface Sql {
  text: string;
  values: unknown[];
}

export const NOW = `timezone('UTC', now())`;

export const plusMs = (param: string) => `${NOW} + make_interval(secs => ${param}::float8 / 1000.0)`;
