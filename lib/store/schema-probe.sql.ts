/**
 * One statement that reads no row but names every table the store uses, so it fails at once
 * ("no such table" / 42P01) when the shipped migrations have not run. Same text on every dialect.
 */
export const SCHEMA_PROBE = `SELECT 1 FROM managed_jobs, managed_job_files, managed_job_steps, managed_job_attempts,
  managed_job_queues, managed_job_workers, managed_job_logs WHERE 1 = 0`;

/**
 * PostgreSQL: the function a concurrency-keyed claim calls (ManagedJobsPostgresKeyedClaim1765300000000).
 * Resolving its signature fails with 42883 ("function does not exist") when that migration has not run.
 */
export const POSTGRES_FUNCTION_PROBE = `SELECT 'managed_jobs_claim_keyed(uuid[], int[], jsonb[], int[], text[], text, text, text, int, int, int, float8)'::regprocedure`;
