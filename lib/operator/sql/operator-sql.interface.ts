/**
 * The operator's statements (`operator.store.ts`), one builder per dialect. None is on the job hot
 * path: each runs once per operator call, per worker heartbeat (registry) or per log batch.
 * Times travel as UTC text ('YYYY-MM-DD HH:MM:SS.mmm') both ways, as the schedules' do.
 */
export interface Sql {
  text: string;
  values: unknown[];
}

/** A job filter; every field narrows. `statuses` are validated by the service. */
export interface JobFilter {
  jobIds?: string[];
  statuses?: string[];
  queue?: string;
  type?: string;
  /** Members of this batch (a UUID, checked by the service). */
  batchId?: string;
  ownerId?: string;
  tenantId?: string;
  /** An exact job id, or a piece of the type, the failure reason or the progress message. */
  search?: string;
  createdFrom?: string;
  createdTo?: string;
  finishedBefore?: string;
}

export interface WorkerRow {
  workerId: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  running: number;
}

export interface LogLine {
  logId: string;
  jobId: string;
  at: string;
  level: string;
  message: string;
  /** JSON text, or null. */
  data: string | null;
}

export interface AuditRow {
  auditId: string;
  actor: string | null;
  action: string;
  target: string;
  reason: string | null;
  count: number;
}

export interface OperatorSql {
  /** `queue, age_ms` of the oldest pending job (by creation) of every queue with pending jobs. */
  oldestPending(): Sql;
  /** `queue, paused` of every queue ever paused (resumed ones included). */
  queueSwitches(): Sql;
  setPaused(queue: string, paused: boolean): Sql;
  /** Jobs matching the filter, newest first, with every column (times as text). */
  listJobs(filter: JobFilter, limit: number, offset: number): Sql;
  countJobs(filter: JobFilter): Sql;
  /** `minute_ago` (0 = this minute), `status`, `n`: jobs completed or failed in the last `minutes` (the finished_at index). */
  finishedPerMinute(minutes: number): Sql;
  /** `job_id` and `type`, oldest first (bulk actions work through them in batches). */
  jobIds(filter: JobFilter, limit: number): Sql;
  /** Jobs of these queues running, or pending and due now: `n`. */
  busy(queues: string[]): Sql;
  /** The log lines of these jobs, if the jobs are gone (no foreign key; the store's delete takes the ledger). */
  deleteLogs(jobIds: string[]): Sql;
  attempts(jobId: string): Sql;
  steps(jobId: string): Sql;
  logs(jobId: string): Sql;
  insertLogs(lines: LogLine[]): Sql;
  /** Keeps the newest `keep` lines of the job. */
  trimLogs(jobId: string, keep: number): Sql;
  upsertWorker(worker: WorkerRow): Sql;
  /** Also deletes the rows of workers not seen for `staleMs`. */
  deleteStaleWorkers(staleMs: number): Sql;
  deleteWorker(workerId: string): Sql;
  liveWorkers(staleMs: number): Sql;
  countLiveWorkers(staleMs: number): Sql;
  insertAudit(row: AuditRow): Sql;
  listAudit(limit: number, offset: number): Sql;
  countAudit(): Sql;
}
