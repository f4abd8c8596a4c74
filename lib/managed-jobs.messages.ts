/** Every message the library shows a developer, in one place. */
export const DUPLICATE_JOB_NAME = (name: string, first: string, second: string) =>
  `Two managed jobs are named "${name}" (${first} and ${second}). Give one of them another name with @ManagedJob({ name }).`;
export const JOB_WITHOUT_HANDLE = (className: string) =>
  `${className} is decorated with @ManagedJob() but has no handle(ctx) method.`;
export const UNKNOWN_JOB = (name: string) =>
  `No managed job is named "${name}". Decorate the provider with @ManagedJob() and list it in a module's providers.`;
export const INVALID_PAYLOAD = (name: string, count: number) =>
  `The payload of job "${name}" is invalid (${count} violation${count === 1 ? '' : 's'}).`;
export const JOB_NOT_FOUND = (jobId: string) => `Managed job ${jobId} was not found.`;
export const JOB_NOT_STOPPABLE = (jobId: string, status: string) =>
  `Managed job ${jobId} is ${status}; only pending or running jobs can be stopped.`;
export const JOB_NOT_RETRYABLE = (jobId: string, status: string) =>
  `Managed job ${jobId} is ${status}; only failed or stopped jobs can be retried.`;
export const JOB_FENCED = (jobId: string) =>
  `This worker no longer owns managed job ${jobId} (it was stopped, timed out or reassigned); the write was discarded.`;
export const JOB_TIMED_OUT = (seconds: number) => `Timed out after ${seconds}s.`;
export const WORKER_LOST = (workerId: string) =>
  `The worker running this job (${workerId}) stopped renewing its lease and the job is not marked idempotent, so it was not re-run.`;
export const JOB_INTERRUPTED = 'The worker is shutting down; the job will be handed back to the queue.';
export const JOB_STOPPED = 'The job was stopped.';
export const UNSUPPORTED_DATABASE = (type: string) =>
  `nestjs-managed-jobs supports PostgreSQL ('postgres') and SQLite ('better-sqlite3'); the data source is '${type}'.`;
export const SQLITE_MEMORY = () =>
  `nestjs-managed-jobs needs a SQLite file, not ':memory:': the worker opens its own connection so it never sees a caller's uncommitted transaction.`;
export const UNSAFE_FILE_PATH = (path: string) => `The file path "${path}" is outside the storage root.`;
export const INVALID_FILE_NAME = (name: string) => `"${name}" is not a valid file name.`;
export const JOB_FILE_NOT_FOUND = (jobId: string, fileId: string) => `File ${fileId} of managed job ${jobId} was not found or has expired.`;
export const SCHEDULER_MISSING = () =>
  `ScheduleModule.forRoot() is not imported, so the daily file expiry does not run. Import it in your app module, or set schedule.enabled: false and call ManagedJobFilesService.expireFiles() yourself.`;
export const CRON_MISSING = () =>
  `The 'cron' package (a dependency of @nestjs/schedule) cannot be loaded from nestjs-managed-jobs, so the daily file expiry does not run. Add 'cron' to your dependencies.`;

// The worker (lib/worker/*): log lines.
export const WORKER_WITHOUT_JOBS = () => 'The worker is enabled but no @ManagedJob() provider was found; it will not claim jobs.';
export const LISTEN_FAILED = (channel: string, reason: string) => `Could not LISTEN on ${channel}: ${reason}; polling only.`;
export const CLAIM_FAILED = (reason: string) => `Claiming jobs failed: ${reason}`;
export const JOB_LOST = (jobId: string) => `Job ${jobId} is no longer owned by this worker.`;
export const JOB_REASSIGNED = (jobId: string) => `Job ${jobId} was reassigned or reaped while this worker ran it.`;
export const RESULT_NOT_SERIALISABLE = (reason: string) => `The job's result is not JSON-serialisable: ${reason}`;
export const OUTCOME_NOT_RECORDED = (jobId: string, reason: string) => `Could not record the outcome of job ${jobId}: ${reason}`;
export const FAILED_HOOK_THREW = (jobId: string, reason: string) => `failed() of job ${jobId} threw: ${reason}`;
export const HANDED_BACK = (count: number) => `Handed ${count} unfinished job(s) back to the queue.`;
export const HAND_BACK_FAILED = (reason: string) => `Could not hand jobs back (${reason}); they return when their lease runs out.`;
export const LEASE_RENEWAL_FAILED = (reason: string) => `Renewing leases failed: ${reason}`;
export const LEASE_KEEPER_ON_LOOP = (reason: string) =>
  `Leases are renewed on the event loop (${reason}): a handler that blocks it for longer than worker.leaseMs can be run twice.`;
export const REQUEUED_LOST = (count: number) => `Re-queued ${count} job(s) of a lost worker.`;
export const REAP_FAILED = (reason: string) => `Reaping expired leases failed: ${reason}`;
