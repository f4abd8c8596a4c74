// The public surface of nestjs-managed-jobs. Stores, SQL, the worker and the explorer stay internal.
export { ManagedJobsModule } from './managed-jobs.module.js';
export type {
  ManagedJobsModuleOptions,
  OperatorOptions,
  ManagedJobsModuleExtras,
  WorkerOptions,
  BroadcastingOptions,
  ScheduleOptions,
  HttpOptions,
  JobDefaults,
  TelemetryOptions,
} from './interfaces/managed-jobs-options.interface.js';
export { ManagedJob } from './decorators/managed-job.decorator.js';
export type { ManagedJobOptions, BackoffFn } from './interfaces/managed-job-options.interface.js';
export type { JobMiddleware } from './interfaces/job-middleware.interface.js';
export type { ManagedJobHandler, ManagedJobClass, JobPayloadOf, JobResultOf, DispatchPayload } from './interfaces/managed-job-handler.interface.js';
export type { JobContext, JobLogger, AddFileInput, PutFileOptions, ProgressStepsOptions } from './interfaces/job-context.interface.js';
export type { JobOwner, JobOwnerLike, PlainJobOwner, JobScope, OwnerRef } from './interfaces/job-owner.interface.js';
export type { DispatchOptions, ListJobsQuery, Page } from './interfaces/dispatch-options.interface.js';
export { JobStatus } from './enums/job-status.enum.js';
export { JobRunnerService, type JobReference, type DispatchManyItem } from './services/job-runner.service.js';
export { JobEventsPublisher } from './events/job-events.publisher.js';
export { BroadcastEvents, type BroadcastEventName } from './gateway/gateway.constants.js';
export type { JobBroadcast } from './gateway/job-broadcast.payload.js';
export {
  ManagedJobEvents,
  ManagedJobEvent,
  ManagedJobStartedEvent,
  ManagedJobProgressEvent,
  ManagedJobCompletedEvent,
  ManagedJobStoppedEvent,
  ManagedJobFailedEvent,
  ManagedJobRetryingEvent,
  type ManagedJobEventName,
} from './events/managed-job.events.js';
export {
  ManagedJobEntity,
  ManagedJobFileEntity,
  ManagedJobStepEntity,
  ManagedJobAttemptEntity,
  ManagedJobScheduleEntity,
  ManagedJobQueueEntity,
  ManagedJobWorkerEntity,
  ManagedJobAuditEntity,
  ManagedJobLogEntity,
  ManagedJobBatchEntity,
  ManagedJobDependencyEntity,
  managedJobsEntities,
  type AttemptOutcome,
} from './entities/index.js';
export { managedJobsMigrations } from './migrations/index.js';
export {
  ManagedJobsError,
  InvalidJobPayloadError,
  UnknownJobError,
  JobNotFoundError,
  JobStateConflictError,
  JobFileNotFoundError,
  JobFencedError,
  InvalidJobValueError,
  JobInterruptedError,
  ManagedJobsConfigurationError,
  UnrecoverableJobError,
  type PayloadViolation,
} from './errors/managed-jobs.errors.js';
export type { StorageDriver, DownloadHeaders } from './storage/storage-driver.interface.js';
export { LocalStorageDriver, UnsafeFilePathError } from './storage/local-storage.driver.js';
export { S3StorageDriver } from './storage/s3-storage.driver.js';
export type { S3StorageOptions } from './storage/s3-storage.options.js';
export { InvalidFileNameError } from './storage/file-names.js';
export { ManagedJobFilesService, type OpenedJobFile, type JobFileRedirect } from './files/managed-job-files.service.js';
export { ManagedJobsMaintenanceService } from './maintenance/managed-jobs-maintenance.service.js';
export { ManagedSchedulesService } from './schedules/managed-schedules.service.js';
export type {
  JobScheduleOptions,
  ScheduleDefinition,
  ScheduleRecord,
  ScheduleCatchUp,
  ScheduleOverlap,
} from './interfaces/schedule-options.interface.js';
export { InvalidScheduleError, ScheduleNotFoundError } from './errors/schedule.errors.js';
export type { JobResponse, JobFileResponse } from './http/job-responses.js';
export { ManagedJobsExceptionFilter } from './http/managed-jobs-exception.filter.js';
export {
  ManagedJobsHealthIndicator,
  type ManagedJobsHealthOptions,
  type ManagedJobsHealthDetails,
  type ManagedJobsHealthResult,
} from './telemetry/managed-jobs-health.indicator.js';
export { ManagedJobsOperatorService, MAX_OPERATOR_PAGE } from './operator/managed-jobs-operator.service.js';
export type {
  Audit,
  OperatorStats,
  QueueStats,
  OperatorJobQuery,
  RetryFilter,
  DeleteFilter,
  JobDetails,
  JobAttempt,
  JobStep,
  JobLogLine,
  WorkerInfo,
  AuditEntry,
} from './operator/operator.types.js';
export type { OperatorJobResponse } from './operator/operator-responses.js';
export { JobWaitTimeoutError } from './operator/job-waiter.js';
export { runManagedJobsCli, type CliIo } from './cli/run-managed-jobs-cli.js';
export { InvalidJobKeyError, UniqueKeyHeldError } from './errors/managed-jobs.errors.js';
export type { KeyFn, KeyFnJob, UniqueJobOptions, ConcurrencyOptions, RateLimitOptions } from './interfaces/queue-control.interface.js';
export { BatchStatus } from './workflows/batch.interfaces.js';
export type { BatchItem, BatchOptions, BatchRecord, BatchCallback, BatchFailurePolicy, JobBatchHandle } from './workflows/batch.interfaces.js';
export { ManagedBatchEvents, ManagedBatchEvent, ManagedBatchProgressEvent, ManagedBatchFinishedEvent, type ManagedBatchEventName } from './workflows/batch.events.js';
export { InvalidBatchError, BatchNotFoundError, BatchNotRunningError, type InvalidBatchProblem } from './errors/workflow.errors.js';
export { BatchBroadcastEvents, type BatchBroadcastEventName } from './gateway/gateway.constants.js';
export type { BatchBroadcast } from './gateway/batch-broadcaster.js';
