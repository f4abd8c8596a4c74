/**
 * The operator's view of the queue: unscoped, for admins and tooling (the operator API, the CLI,
 * the dashboard), never for end users. Every action is written to the audit trail with its actor,
 * reason and count. Bulk actions work through the matching jobs in batches of ids, with the
 * status guard repeated in the statement that changes them, so a job that moved on meanwhile is
 * left alone: `delete` never touches a pending, waiting or running job.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JOB_STORE, RESOLVED_OPTIONS, STORAGE_DRIVER } from '../managed-jobs.constants.js';
import { EMPTY_OPERATOR_FILTER, INVALID_OPERATOR_QUERY, INVALID_OPERATOR_STATUS } from '../managed-jobs.messages.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { JobStatus } from '../enums/job-status.enum.js';
import { ManagedJobsError } from '../errors/managed-jobs.errors.js';
import type { Page } from '../interfaces/dispatch-options.interface.js';
import { JobRegistry } from '../discovery/job-registry.js';
import { removeStoredFiles } from '../files/file-removal.js';
import { JobRunnerService } from '../services/job-runner.service.js';
import { isJobId } from '../services/job-scope.js';
import type { JobStore } from '../store/job-store.interface.js';
import { toDate, toJob, utcText } from '../store/row-mapper.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import { JobWorker } from '../worker/job-worker.js';
import { AuditTrail } from './audit-trail.js';
import { OperatorStore } from './operator.store.js';
import type { JobFilter } from './sql/operator-sql.interface.js';
import { registryStaleMs } from './worker-registry.js';
import type {
  Audit,
  AuditEntry,
  DeleteFilter,
  JobDetails,
  OperatorJobQuery,
  OperatorStats,
  QueueStats,
  RetryFilter,
  Throughput,
  WorkerInfo,
} from './operator.types.js';

/** Jobs changed per statement by the bulk actions. */
const BATCH = 200;
/** Largest page of `listJobs` and `auditLog`. */
export const MAX_OPERATOR_PAGE = 500;

const STATUSES = new Set<string>(Object.values(JobStatus));
const RETRYABLE = ['failed', 'stopped'];
const DELETABLE = ['completed', 'failed', 'stopped'];

@Injectable()
export class ManagedJobsOperatorService {
  private readonly logger = new Logger('ManagedJobs');

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly db: OperatorStore,
    private readonly audit: AuditTrail,
    private readonly runner: JobRunnerService,
    private readonly registry: JobRegistry,
    private readonly worker: JobWorker,
  ) {}

  /** Exact counts by queue and status (the store's `jobCounts`: never a count over every kept job), paused flags, live workers. */
  async stats(): Promise<OperatorStats> {
    const sql = this.db.sql;
    const [counts, paused, workers, oldest] = await Promise.all([
      this.store.jobCounts(),
      this.db.rows<{ queue: string; paused: unknown }>(sql.queueSwitches()),
      this.db.one<{ n: unknown }>(sql.countLiveWorkers(registryStaleMs(this.options))),
      this.db.rows<{ queue: string; age_ms: unknown }>(sql.oldestPending()),
    ]);
    const byQueue = new Map<string, QueueStats>();
    const queue = (name: string): QueueStats => {
      let q = byQueue.get(name);
      if (!q) {
        q = { queue: name, paused: false, pending: 0, waiting: 0, running: 0, completed: 0, failed: 0, stopped: 0, oldestPendingAgeMs: null };
        byQueue.set(name, q);
      }
      return q;
    };
    for (const name of [this.options.queue.name, ...this.options.worker.queues]) queue(name);
    for (const row of counts) {
      const q = queue(row.queue) as unknown as Record<string, number>;
      if (STATUSES.has(row.status) || row.status === 'waiting') q[row.status] = row.count;
    }
    for (const row of paused) queue(row.queue).paused = Number(row.paused) === 1; // true, 1 or '1' by dialect
    // Read beside the counts, not in their snapshot: shown only where the counts have pending jobs.
    for (const row of oldest) {
      const q = byQueue.get(row.queue);
      if (q && q.pending > 0) q.oldestPendingAgeMs = Math.max(0, Math.round(Number(row.age_ms)));
    }
    const queues = [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
    return { queues, workers: Number(workers?.n ?? 0) };
  }

  /** Jobs completed and failed per minute over the last `minutes` (≤ 24 h), from the finished_at index. */
  async throughput(minutes = 60): Promise<Throughput> {
    const span = positiveInt('minutes', minutes, 60);
    if (span > 1440) throw new ManagedJobsError(INVALID_OPERATOR_QUERY('minutes', `expected at most 1440, got ${span}`));
    const points = Array.from({ length: span }, (_, i) => ({ minutesAgo: span - 1 - i, completed: 0, failed: 0 }));
    const rows = await this.db.rows<{ minute_ago: unknown; status: string; n: unknown }>(this.db.sql.finishedPerMinute(span));
    for (const row of rows) {
      const ago = Number(row.minute_ago);
      if (ago >= 0 && ago < span && (row.status === 'completed' || row.status === 'failed')) points[span - 1 - ago][row.status] += Number(row.n);
    }
    return { minutes: span, points };
  }

  /** Jobs of every owner, newest first; with `batchId`, the members of that batch. */
  async listJobs(query: OperatorJobQuery = {}): Promise<Page<ManagedJobEntity>> {
    const page = positiveInt('page', query.page, 1);
    const limit = Math.min(MAX_OPERATOR_PAGE, positiveInt('limit', query.limit, 20));
    const batchId = text('batchId', query.batchId);
    if (batchId !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(batchId)) return { data: [], meta: { page, limit, total: 0 } };
    const filter: JobFilter = {
      // A queue without a status still reads the (status, queue, job_id) index: one range per status;
      // not with a type as well (MariaDB read the whole queue through them and sorted it: 1.6 s at a
      // million jobs, where walking the primary key newest first finds a page in a few ms).
      statuses:
        statuses('listJobs', query.status, [...STATUSES]) ??
        (text('queue', query.queue) !== undefined && text('type', query.type) === undefined ? [...STATUSES] : undefined),
      queue: text('queue', query.queue),
      type: text('type', query.type),
      batchId,
      ownerId: text('ownerId', query.ownerId),
      tenantId: text('tenantId', query.tenantId),
      search: text('search', query.search),
      createdFrom: time('createdFrom', query.createdFrom),
      createdTo: time('createdTo', query.createdTo),
    };
    const [rows, total] = await Promise.all([this.db.rows(this.db.sql.listJobs(filter, limit, (page - 1) * limit)), this.total(filter)]);
    return { data: rows.map(toJob), meta: { page, limit, total } };
  }

  /**
   * A filter of statuses, queue and type only is counted from the store's job counts (exact, and
   * a few ms where a count of a million ended rows took 130 to 1,300 ms); any other by a count.
   */
  private async total(f: JobFilter): Promise<number> {
    const { statuses, queue, type, ...rest } = f;
    if (Object.values(rest).some((v) => v !== undefined)) return Number((await this.db.one<{ total: unknown }>(this.db.sql.countJobs(f)))?.total ?? 0);
    const counts = await this.store.jobCounts(type);
    return counts.filter((c) => (queue === undefined || c.queue === queue) && (!statuses || statuses.includes(c.status))).reduce((n, c) => n + c.count, 0);
  }

  /** A job with its runs (and their errors), steps, files and log lines; null when there is none. */
  async findJob(jobId: string): Promise<JobDetails | null> {
    if (!isJobId(jobId)) return null;
    const job = await this.store.find(jobId);
    if (!job) return null;
    const sql = this.db.sql;
    const [attempts, steps, files, logs] = await Promise.all([
      this.db.rows(sql.attempts(jobId)),
      this.db.rows(sql.steps(jobId)),
      this.store.listFiles(jobId, true),
      this.db.rows(sql.logs(jobId)),
    ]);
    return {
      job,
      attempts: attempts.map((r) => ({
        attempt: Number(r.attempt),
        fence: Number(r.fence),
        workerId: r.worker_id,
        startedAt: toDate(r.started_at)!,
        finishedAt: toDate(r.finished_at)!,
        outcome: r.outcome,
        error: r.error ?? null,
      })),
      steps: steps.map((r) => ({ name: r.name, result: json(r.result), completedAt: toDate(r.completed_at)! })),
      files,
      logs: logs.map((r) => ({ at: toDate(r.at)!, level: r.level, message: r.message, data: json(r.data) })),
    };
  }

  /** Failed or stopped jobs back to the queue with a fresh set of tries (steps and state kept). */
  async retry(filter: RetryFilter, audit?: Audit): Promise<{ count: number }> {
    const f = this.bulkFilter('retry', filter, RETRYABLE);
    let count = 0;
    for (;;) {
      const rows = await this.db.rows<{ job_id: string; type: string }>(this.db.sql.jobIds(f, BATCH));
      let retried = 0;
      for (const row of rows) {
        const tries = this.registry.get(row.type)?.tries ?? 1;
        if (await this.store.retry(row.job_id, tries)) retried++;
      }
      count += retried;
      if (rows.length < BATCH || retried === 0) break;
    }
    if (count) this.worker.wake(true);
    await this.audit.record('retry', describe(filter), count, audit);
    return { count };
  }

  /** Deletes finished jobs (completed, failed, stopped) with their files, steps, attempts and logs. */
  async delete(filter: DeleteFilter, audit?: Audit): Promise<{ count: number }> {
    const f = this.bulkFilter('delete', filter, DELETABLE);
    const count = await this.deleteMatching(f);
    await this.audit.record('delete', describe(filter), count, audit);
    return { count };
  }

  /** Stops a pending or running job (as `JobRunnerService.stop`, unscoped). */
  async stop(jobId: string, audit?: Audit): Promise<ManagedJobEntity> {
    const job = await this.runner.stop(jobId);
    await this.audit.record('stop', jobId, 1, audit);
    return job;
  }

  /** Deletes the pending jobs of a queue (never running ones). */
  async clearQueue(queue: string, audit?: Audit): Promise<{ count: number }> {
    const name = queueName(queue);
    const count = await this.deleteMatching({ queue: name, statuses: [JobStatus.Pending] });
    await this.audit.record('clearQueue', name, count, audit);
    return { count };
  }

  /** No worker of any process claims from the queue until it is resumed; dispatches are still accepted. */
  async pauseQueue(queue: string, audit?: Audit): Promise<void> {
    const name = queueName(queue);
    await this.db.write(this.db.sql.setPaused(name, true));
    await this.audit.record('pauseQueue', name, 1, audit);
  }

  async resumeQueue(queue: string, audit?: Audit): Promise<void> {
    const name = queueName(queue);
    await this.db.write(this.db.sql.setPaused(name, false));
    this.worker.wake(true); // other processes see it at their next poll
    await this.audit.record('resumeQueue', name, 1, audit);
  }

  /** Live worker processes (seen within the registry's staleness window), oldest first. */
  async workers(): Promise<WorkerInfo[]> {
    const rows = await this.db.rows(this.db.sql.liveWorkers(registryStaleMs(this.options)));
    return rows.map((r) => ({
      workerId: r.worker_id,
      hostname: r.hostname,
      pid: Number(r.pid),
      queues: json(r.queues) ?? [],
      concurrency: Number(r.concurrency),
      running: Number(r.running),
      startedAt: toDate(r.started_at)!,
      lastSeenAt: toDate(r.last_seen_at)!,
    }));
  }

  /** The audit trail, newest first. */
  auditLog(query: { page?: number; limit?: number } = {}): Promise<Page<AuditEntry>> {
    const page = positiveInt('page', query.page, 1);
    const limit = Math.min(MAX_OPERATOR_PAGE, positiveInt('limit', query.limit, 20));
    return this.audit.list(page, limit);
  }

  /** Records an action done elsewhere (schedules through the API or the CLI). */
  record(action: string, target: string, count: number, audit?: Audit): Promise<void> {
    return this.audit.record(action, target, count, audit);
  }

  private bulkFilter(action: 'retry' | 'delete', given: RetryFilter | DeleteFilter, allowed: string[]): JobFilter {
    const filter = given as DeleteFilter;
    if (!filter || typeof filter !== 'object') throw new ManagedJobsError(EMPTY_OPERATOR_FILTER(action));
    const jobIds = filter.jobIds === undefined ? undefined : idList(filter.jobIds);
    const status = filter.status as string | undefined;
    if (status !== undefined && !allowed.includes(status)) throw new ManagedJobsError(INVALID_OPERATOR_STATUS(action, status, allowed));
    const f: JobFilter = {
      jobIds,
      statuses: status ? [status] : allowed,
      type: text('type', filter.type),
      queue: text('queue', filter.queue),
      finishedBefore: action === 'delete' ? time('finishedBefore', filter.finishedBefore) : undefined,
    };
    const names = f.jobIds !== undefined || status !== undefined || f.type !== undefined || f.queue !== undefined || f.finishedBefore !== undefined;
    if (!names || (filter.jobIds !== undefined && !filter.jobIds.length)) throw new ManagedJobsError(EMPTY_OPERATOR_FILTER(action));
    return f;
  }

  /** Deletes the jobs matching `f` (whose `statuses` say which may go), files first, in batches. */
  private async deleteMatching(f: JobFilter): Promise<number> {
    const sql = this.db.sql;
    let count = 0;
    for (;;) {
      const ids = (await this.db.rows<{ job_id: string }>(sql.jobIds(f, BATCH))).map((r) => r.job_id);
      if (!ids.length) break;
      const files = await this.store.filesOfJobs(ids);
      const removed = new Set(await removeStoredFiles(this.storage, files, this.logger));
      const blocked = new Set(files.filter((file) => !removed.has(file.jobFileId)).map((file) => file.jobId));
      const deletable = ids.filter((id) => !blocked.has(id));
      // The store's delete keeps the ended counts of stats() right, and takes the ledger along.
      const deleted = deletable.length ? await this.store.deleteJobs(deletable, f.statuses!) : 0;
      if (deletable.length) await this.db.write(sql.deleteLogs(deletable));
      count += deleted;
      if (ids.length < BATCH || deleted === 0) break;
    }
    return count;
  }
}

function json(value: unknown): any {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function describe(filter: object): string {
  const shown = Object.fromEntries(
    Object.entries(filter).map(([k, v]) => [k, Array.isArray(v) && v.length > 20 ? [...v.slice(0, 20), `… ${v.length - 20} more`] : v]),
  );
  return JSON.stringify(shown);
}

function positiveInt(field: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ManagedJobsError(INVALID_OPERATOR_QUERY(field, `expected an integer ≥ 1, got ${JSON.stringify(value)}`));
  return n;
}

function text(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 255) throw new ManagedJobsError(INVALID_OPERATOR_QUERY(field, 'expected a string of at most 255 characters'));
  return value;
}

function queueName(queue: unknown): string {
  const name = text('queue', queue);
  if (!name) throw new ManagedJobsError(INVALID_OPERATOR_QUERY('queue', 'a queue name is required'));
  return name;
}

function time(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (!date || isNaN(date.getTime())) throw new ManagedJobsError(INVALID_OPERATOR_QUERY(field, `expected a date, got ${JSON.stringify(value)}`));
  return utcText(date);
}

function idList(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((id) => typeof id !== 'string')) throw new ManagedJobsError(INVALID_OPERATOR_QUERY('jobIds', 'expected an array of job ids'));
  // A string that is not a job id names no job (it could not match one).
  return [...new Set(value.filter((id) => isJobId(id)))];
}

function statuses(action: string, value: unknown, allowed: string[]): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const list = [...new Set(([] as unknown[]).concat(value).flatMap((s) => (typeof s === 'string' ? s.split(',') : [s])))];
  const bad = list.filter((s) => typeof s !== 'string' || !allowed.includes(s));
  if (bad.length) throw new ManagedJobsError(INVALID_OPERATOR_STATUS(action, bad[0], allowed));
  return list as string[];
}
