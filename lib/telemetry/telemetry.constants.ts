/**
 * Names recorded by the telemetry (pinned in DESIGN.md, "Observability"). Attribute names follow
 * the OpenTelemetry messaging conventions where one fits, `managed_jobs.*` for the rest.
 */
export const INSTRUMENTATION_NAME = 'nestjs-managed-jobs';

export const SPAN_DISPATCH = (type: string) => `managed-jobs dispatch ${type}`;
export const SPAN_RUN = (type: string) => `managed-jobs run ${type}`;

export const ATTR_SYSTEM = 'messaging.system';
export const SYSTEM = 'managed-jobs';
export const ATTR_DESTINATION = 'messaging.destination.name';
export const ATTR_MESSAGE_ID = 'messaging.message.id';
export const ATTR_OPERATION = 'messaging.operation.type';
export const ATTR_BATCH_COUNT = 'messaging.batch.message_count';
export const ATTR_TYPE = 'managed_jobs.job.type';
export const ATTR_ATTEMPT = 'managed_jobs.job.attempt';

export const METRIC_DISPATCHED = 'managed_jobs.jobs.dispatched';
export const METRIC_COMPLETED = 'managed_jobs.jobs.completed';
export const METRIC_FAILED = 'managed_jobs.jobs.failed';
export const METRIC_RETRIED = 'managed_jobs.jobs.retried';
export const METRIC_WAIT_DURATION = 'managed_jobs.job.wait_duration';
export const METRIC_RUN_DURATION = 'managed_jobs.job.run_duration';
export const METRIC_QUEUE_DEPTH = 'managed_jobs.queue.depth';

/** Histogram buckets in seconds, from a quick job to an hour-long export. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
