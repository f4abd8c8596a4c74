/**
 * One statement that reads no row but names every table the store uses, so it fails at once
 * ("no such table" / 42P01) when the shipped migrations have not run. Same text on every dialect.
 */
export const SCHEMA_PROBE = `SELECT 1 FROM managed_jobs, managed_job_files, managed_job_steps, managed_job_attempts,
  managed_job_queues, managed_job_workers, managed_job_logs WHERE 1 = 0`;
