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
/**
 * Shown to the job's owner: no host name, pid or worker id (those are in the attempts ledger's
 * `worker_id` and the logs).
 */
export const WORKER_LOST = () =>
  'The worker running this job stopped unexpectedly, and the job is not marked idempotent, so it was not run again.';
export const JOB_INTERRUPTED = 'The worker is shutting down; the job will be handed back to the queue.';
export const JOB_STOPPED = 'The job was stopped.';
export const UNSUPPORTED_DATABASE = (type: string) =>
  `nestjs-managed-jobs supports PostgreSQL ('postgres') and SQLite ('better-sqlite3'); the data source is '${type}'.`;
export const SQLITE_MEMORY = () =>
  `nestjs-managed-jobs needs a SQLite file, not ':memory:': the worker opens its own connection so it never sees a caller's uncommitted transaction.`;
/** No path in the text: it ends up as a job's `failedReason`, which its owner sees. The error keeps `.path`. */
export const UNSAFE_FILE_PATH = () => 'The file path is outside the storage root, or malformed.';
/** The name is quoted as JSON, so a NUL or a lone surrogate in it is shown escaped (and the message stays storable). */
export const INVALID_FILE_NAME = (name: string) => `${JSON.stringify(name)} is not a valid file name.`;
export const JOB_FILE_NOT_FOUND = (jobId: string, fileId: string) => `File ${fileId} of managed job ${jobId} was not found or has expired.`;
export const SCHEDULER_MISSING = () =>
  `ScheduleModule.forRoot() is not imported, so the daily file expiry does not run. Import it in your app module, or set schedule.enabled: false and call ManagedJobFilesService.expireFiles() yourself.`;
export const CRON_MISSING = () =>
  `The 'cron' package (a dependency of @nestjs/schedule) cannot be loaded from nestjs-managed-jobs, so the daily file expiry does not run. Add 'cron' to your dependencies.`;
export const SCOPE_WITHOUT_ID = () => 'The scope names an owner without an id.';
export const INVALID_STATUS_FILTER = (got: string[], known: string[]) => `Unknown job status ${got.map((s) => JSON.stringify(s)).join(', ')}; statuses are ${known.join(', ')}.`;
export const TOO_MANY_ACTIVE_JOBS = (max: number) => `You already have ${max} jobs pending or running; wait for some to finish.`;
export const INVALID_JOB_VALUE = (what: string, violations: Array<{ constraints: Record<string, string> }>) =>
  `The job's ${what} cannot be stored: ${violations.flatMap((v) => Object.values(v.constraints)).slice(0, 3).join('; ')}.`;
export const INVALID_SCHEDULE = (name: string, reason: string) => `Schedule ${JSON.stringify(name)} is invalid: ${reason}`;
export const SCHEDULE_NOT_FOUND = (name: string) => `No schedule is named ${JSON.stringify(name)}.`;
export const SCHEDULE_TICK_FAILED = (message: string) => `The schedule ticker failed to read or fire schedules: ${message}`;
export const SCHEDULE_FIRE_FAILED = (name: string, message: string) => `Schedule ${JSON.stringify(name)} could not dispatch its job: ${message}`;
export const SCHEDULE_UNDECLARED = (name: string) =>
  `Schedule ${JSON.stringify(name)} was declared in code and no longer is; it was removed.`;
