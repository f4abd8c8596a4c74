/** Where a managed job is in its life. Stored as-is in `managed_jobs.status`. */
export enum JobStatus {
  Pending = 'pending',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
  Stopped = 'stopped',
  /** A workflow member whose dependencies have not all completed: never claimed. */
  Waiting = 'waiting',
}

/** Statuses a job can leave only through `retry()`. */
export const FINISHED_STATUSES: readonly JobStatus[] = [JobStatus.Completed, JobStatus.Failed, JobStatus.Stopped];

/** Statuses from which `retry()` may put a job back in the queue. */
export const RETRYABLE_STATUSES: readonly JobStatus[] = [JobStatus.Failed, JobStatus.Stopped];
