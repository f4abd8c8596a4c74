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
export const JOB_STOP_DISABLED = (jobId: string, status: string) =>
  `Managed job ${jobId} is ${status} and cannot be stopped: its job is declared stoppable: false, or its run called ctx.disableStop().`;
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
  `nestjs-managed-jobs supports PostgreSQL ('postgres'), MySQL 8 and MariaDB 10.6+ ('mysql', 'mariadb', driver mysql2) and SQLite ('better-sqlite3'); the data source is '${type}'.`;
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
export const GATEWAY_PEER_MISSING = (name: string) =>
  `Live progress over socket.io is off: '${name}' is not installed. Install @nestjs/websockets, @nestjs/platform-socket.io and socket.io to turn it on, or pass gateway: false to ManagedJobsModule to silence this.`;
export const EVENT_EMITTER_MISSING = () =>
  `'@nestjs/event-emitter' is not installed: job lifecycle events reach no @OnEvent listener (the socket.io gateway still gets them). Install it and import EventEmitterModule.forRoot() to listen.`;
export const CONTROLLER_NOT_MOUNTED = () =>
  `http.enabled is true but the bundled controller is not mounted, so every route would be a 404. With forRootAsync the factory's options are not known when the module is built: pass controller: true next to useFactory (ManagedJobsModule.forRootAsync({ controller: true, useFactory })). With forRoot, remove controller: false.`;
export const CONTROLLER_DISABLED = () =>
  `The bundled controller is mounted (controller: true) but http.enabled is false. Remove one of the two: controller: true mounts it, http.enabled: false says not to.`;
export const MIGRATIONS_NOT_RUN = (type: string, detail: string) =>
  `The nestjs-managed-jobs tables are missing or out of date (${detail}). Run the shipped migrations: add migrations: managedJobsMigrations('${type}') and migrationsRun: true to your TypeOrmModule.forRoot() options (or add managedJobsMigrations('${type}') to the migrations your CLI runs).`;
/** `database`: 'SQLite' (the database whose store cannot relay job events). */
export const EVENTS_IN_PROCESS = (database: string, why: string) =>
  `${database}: ${why}, but job events (@OnEvent listeners and live progress over socket.io) stay in the process that ran the job; browsers connected to another process see no live progress (they can poll JobRunnerService.find() or GET /jobs/:jobId). Use PostgreSQL or MySQL/MariaDB to relay events between processes, or run the worker in the web process.`;
export const SCHEDULE_PACKAGE_MISSING = () =>
  `'@nestjs/schedule' is not installed, so the daily file expiry does not run. Install @nestjs/schedule and cron and import ScheduleModule.forRoot(), or set schedule.enabled: false and call ManagedJobFilesService.expireFiles() yourself.`;
export const INVALID_SCHEDULE = (name: string, reason: string) => `Schedule ${JSON.stringify(name)} is invalid: ${reason}`;
export const SCHEDULE_NOT_FOUND = (name: string) => `No schedule is named ${JSON.stringify(name)}.`;
export const SCHEDULE_TICK_FAILED = (message: string) => `The schedule ticker failed to read or fire schedules: ${message}`;
export const SCHEDULE_FIRE_FAILED = (name: string, message: string) => `Schedule ${JSON.stringify(name)} could not dispatch its job: ${message}`;
export const SCHEDULE_UNDECLARED = (name: string) =>
  `Schedule ${JSON.stringify(name)} was declared in code and no longer is; it was removed.`;

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
export const WAL_CHECKPOINT_ON_LOOP = (reason: string) =>
  `The SQLite write-ahead log is checkpointed at the worker's commits again (the lease keeper thread's checkpoint failed: ${reason}).`;
export const REQUEUED_LOST = (count: number) => `Re-queued ${count} job(s) of a lost worker.`;
export const REAP_FAILED = (reason: string) => `Reaping expired leases failed: ${reason}`;
export const STOPPED_RESULT_NOT_KEPT = (jobId: string, why: string) => `Could not keep the result of stopped job ${jobId}: ${why}`;
export const OPERATOR_NOT_MOUNTED = () =>
  'Option operator.enabled is true but the operator API was not mounted: with forRootAsync, also pass `operatorApi: true` next to useFactory.';
export const OPERATOR_WITHOUT_AUTHORIZE = () => 'Option operator.enabled needs operator.authorize(req): the operator API is never open to everyone.';
export const EMPTY_OPERATOR_FILTER = (action: string) =>
  `${action} needs a filter that names something (jobIds, status, type, queue${action === 'delete' ? ' or finishedBefore' : ''}); an empty filter is refused.`;
export const INVALID_OPERATOR_STATUS = (action: string, got: unknown, allowed: string[]) =>
  `${action}: status ${JSON.stringify(got)} is not one of ${allowed.join(', ')}.`;
export const INVALID_OPERATOR_QUERY = (field: string, reason: string) => `Invalid ${field}: ${reason}.`;
export const WAIT_TIMED_OUT = (jobId: string, timeoutMs: number) => `Job ${jobId} did not finish within ${timeoutMs} ms.`;
export const DRAIN_TIMED_OUT = (timeoutMs: number) => `The queue was not drained within ${timeoutMs} ms.`;
export const REGISTRY_FAILED = (reason: string) => `Updating the worker registry failed: ${reason}`;
export const JOB_LOGS_NOT_WRITTEN = (jobId: string, reason: string) => `Could not write the log lines of job ${jobId}: ${reason}`;
/** `what`: what the driver needed the package for. */
export const S3_PEER_MISSING = (name: string, what: string) =>
  `S3StorageDriver needs '${name}' ${what}, and it is not installed. Add it to your dependencies (npm install ${name}).`;
export const INVALID_S3_OPTION = (option: string, reason: string) => `S3StorageDriver option "${option}" is invalid: ${reason}.`;

// Job options, middleware, release and the retry policy (lib/discovery/*, lib/worker/run-executor.ts).
export const INVALID_JOB_OPTION = (where: string, option: string, rule: string, got: unknown) =>
  `${where}: ${option} must be ${rule}; got ${describe(got)}.`;
export const MIDDLEWARE_NOT_INJECTABLE = (where: string, name: string, reason: string) =>
  `${where}: middleware ${name} cannot be resolved: ${reason}. List it in a module's providers, or make it an @Injectable() class whose dependencies Nest can inject, with a use(ctx, next) method.`;
export const RETRY_UNTIL_FAILED = (jobName: string, reason: string) =>
  `retryUntil() of job "${jobName}" must return a valid Date; ${reason}.`;
export const RELEASED_AFTER_RETRY_UNTIL = (until: Date) =>
  `Released after its retryUntil moment (${until.toISOString()}); not run again.`;
export const INVALID_RELEASE_DELAY = (got: unknown) => `ctx.release({ delayMs }) needs a number of milliseconds ≥ 0; got ${describe(got)}.`;
export const MIDDLEWARE_NEXT_TWICE = () => 'A job middleware called next() more than once; the handler runs once per run.';
export const BACKOFF_FN_FAILED = (jobId: string, reason: string) =>
  `backoff() of job ${jobId} threw or returned no number ≥ 0 (${reason}); retrying without delay.`;

function describe(value: unknown): string {
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// The health indicator (lib/telemetry/managed-jobs-health.indicator.ts): why it is down.
export const HEALTH_DATABASE_DOWN = (reason: string) => `The database did not answer: ${reason}`;
export const HEALTH_WORKER_STOPPED = () => 'The worker loop is not running.';
export const HEALTH_WORKER_STALLED = (msAgo: number, pollIntervalMs: number) =>
  `The worker loop last ticked ${msAgo} ms ago (poll interval ${pollIntervalMs} ms).`;
export const HEALTH_QUEUE_BEHIND = (ageMs: number, maxMs: number) =>
  `The oldest due pending job has waited ${ageMs} ms (limit ${maxMs} ms).`;
export const HEALTH_TIMED_OUT = (ms: number) => `no answer within ${ms} ms`;
export const INVALID_QUEUE_CONTROL = (className: string, option: string, rule: string, got: unknown) =>
  `@ManagedJob() of ${className}: ${option} must be ${rule}; got ${describeValue(got)}.`;
export const INVALID_JOB_KEY = (jobName: string, option: string, got: unknown) =>
  `The ${option} key of job "${jobName}" must be a ${option === 'unique' ? 'non-empty ' : ''}string of at most 255 characters; got ${describeValue(got)}. Nothing was written.`;
export const UNIQUE_HOLDER_EXISTS = (jobId: string, holderId: string) =>
  `Managed job ${jobId} cannot be queued again while job ${holderId} holds its unique key.`;
const describeValue = (v: unknown) =>
  typeof v === 'string' ? (v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v)) : v === null ? 'null' : typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;

// Workflows (lib/workflows): why a batch was refused; nothing was written.
export const BATCH_EMPTY = () => 'A batch needs at least one item. Nothing was written.';
export const BATCH_TOO_LARGE = (n: number, max: number) => `A batch takes at most ${max} items per call; got ${n}. Nothing was written.`;
export const BATCH_DUPLICATE_KEY = (key: string) => `Two members of the batch have the key "${key}". Nothing was written.`;
export const BATCH_UNKNOWN_KEY = (key: string, dependent: string) =>
  `Member "${dependent}" depends on "${key}", which is no member of the batch. Nothing was written.`;
export const BATCH_CYCLE = (keys: string[]) => `The batch's dependencies form a cycle: ${keys.join(' → ')}. Nothing was written.`;
export const BATCH_INVALID_OPTION = (option: string, rule: string) => `Batch ${option} must be ${rule}. Nothing was written.`;
export const BATCH_MEMBER_KEYED = (jobName: string) =>
  `Job "${jobName}" is unique, concurrency- or rate-limited: such jobs cannot be batch members yet. Nothing was written.`;
export const BATCH_NOT_FOUND = (batchId: string) => `Batch ${batchId} not found.`;
export const BATCH_NOT_RUNNING = (batchId: string, status: string) => `Batch ${batchId} is ${status}: members can only be added to a running batch.`;
export const BATCH_STOPPED_BY = (key: string) => `Stopped: batch member ${key} failed.`;
export const BATCH_CANCELLED = () => 'Stopped: the batch was cancelled.';
export const BATCH_DEPENDENCY_ENDED = (key: string) => `Stopped: batch member ${key} did not complete.`;
