import { Inject, Injectable } from '@nestjs/common';
import { newJobId } from '../ids/job-id.js';
import { JOB_STORE, JOB_TELEMETRY, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import { JobStatus } from '../enums/job-status.enum.js';
import { JobNotFoundError, JobStateConflictError, ManagedJobsError } from '../errors/managed-jobs.errors.js';
import { INVALID_STATUS_FILTER } from '../managed-jobs.messages.js';
import type { DispatchOptions, ListJobsQuery, Page } from '../interfaces/dispatch-options.interface.js';
import type { JobScope } from '../interfaces/job-owner.interface.js';
import type { DispatchPayload, JobPayloadOf, JobResultOf, ManagedJobClass } from '../interfaces/managed-job-handler.interface.js';
import { JobRegistry } from '../discovery/job-registry.js';
import { JobEventsPublisher } from '../events/job-events.publisher.js';
import { ManagedJobStoppedEvent } from '../events/managed-job.events.js';
import type { JobStore, NewJob, ScopeFilter } from '../store/job-store.interface.js';
import { JobWorker } from '../worker/job-worker.js';
import type { JobTelemetry } from '../telemetry/job-telemetry.js';
import { validatePayload } from './payload-validator.js';
import { retryUntilOf } from '../discovery/job-options.js';
import { insertedJob } from '../store/row-mapper.js';
import { JobWaiter } from '../operator/job-waiter.js';
import { hasQueueControl, jobKeys } from '../queue-control/queue-control.js';
import { isJobId, ownerIds, scopeFilter, triggeredById } from './job-scope.js';
import { Workflows } from '../workflows/workflows.js';
import type { BatchItem, BatchOptions, BatchRecord } from '../workflows/batch.interfaces.js';
import { DispatchGroups } from './dispatch-groups.js';

/** A job class (the `@ManagedJob()` provider) or its registered name. */
export type JobReference = Function | string;

export interface DispatchManyItem<P = unknown> {
  payload: P;
  options?: Omit<DispatchOptions, 'manager'>;
}

/** Dispatch, inspect and control managed jobs. Pass `{ owner }` as scope to act for one owner only. */
@Injectable()
export class JobRunnerService {
  private readonly workflows: Workflows;
  /** Plain one-by-one dispatches that arrive while one is being written share the next commit (dispatch-groups.ts). */
  private readonly groups: DispatchGroups;
  /** The same for jobs with keys (unique, concurrency, rate): the store's keyed insert, several rows at a time. */
  private readonly keyedGroups: DispatchGroups;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    private readonly registry: JobRegistry,
    private readonly worker: JobWorker,
    private readonly events: JobEventsPublisher,
    @Inject(JOB_TELEMETRY) private readonly telemetry: JobTelemetry,
    private readonly waiter: JobWaiter,
  ) {
    this.workflows = new Workflows({
      store,
      events,
      prepare: (job, payload, options) => this.prepare(job, payload, options),
      traced: (rows, write) => this.telemetry.dispatch(rows, write),
      stopRequested: (jobId) => worker.onStopRequested(jobId),
      wake: () => worker.wake(true),
    });
    worker.useWorkflows(this.workflows);
    this.groups = new DispatchGroups((rows) => this.store.insert(rows, undefined, this.worker.id));
    this.keyedGroups = new DispatchGroups((rows) => this.store.insert(rows, undefined, this.worker.id));
  }

  /**
   * Queue a batch: every member (and the batch record) written in one transaction, or inside the
   * caller's (`manager`). Members without `dependsOn` are `pending` at once, the others `waiting`
   * until each dependency has completed. Refused with `InvalidBatchError` (unknown or duplicate
   * key, cycle, more than 10,000 items) or `InvalidJobPayloadError` (any member) before anything is written.
   */
  batch(items: BatchItem[], options?: BatchOptions): Promise<BatchRecord> {
    return this.workflows.batch(items, options);
  }

  /** A batch where item i depends on item i − 1. */
  chain(items: BatchItem[], options?: BatchOptions): Promise<BatchRecord> {
    return this.workflows.chain(items, options);
  }

  /** The batch, or null when it does not exist or is outside the scope. */
  findBatch(batchId: string, scope?: JobScope): Promise<BatchRecord | null> {
    return this.workflows.findBatch(batchId, scope);
  }

  /**
   * Unstarted members `stopped`, running ones asked to stop, the batch `cancelled` and its
   * `finally` dispatched. A batch that already ended is returned as it is. Throws `BatchNotFoundError`.
   */
  cancelBatch(batchId: string, scope?: JobScope): Promise<BatchRecord> {
    return this.workflows.cancelBatch(batchId, scope);
  }

  /**
   * Validate the payload and queue the job. Throws `UnknownJobError` or `InvalidJobPayloadError`
   * (with the violations) before anything is written. Given the job class, the payload is typed
   * from its `handle(ctx: JobContext<P>)` and the record's `result` from what `handle` returns; by
   * name, both are `unknown`.
   */
  dispatch<H>(job: ManagedJobClass<H>, payload: DispatchPayload<JobPayloadOf<H>>, options?: DispatchOptions): Promise<ManagedJobEntity<JobPayloadOf<H>, JobResultOf<H>>>;
  dispatch(job: string, payload: unknown, options?: DispatchOptions): Promise<ManagedJobEntity>;
  async dispatch(job: JobReference, payload: unknown, options: DispatchOptions = {}): Promise<ManagedJobEntity> {
    const row = await this.prepare(job, payload, options);
    if (options.manager) {
      const [saved] = await this.telemetry.dispatch([row], () => this.store.insert([row], options.manager, ''));
      return saved;
    }
    // Jobs with keys group apart: the store's keyed insert reads (and may take) each key's holder.
    const saved = await this.telemetry.dispatch([row], () => (row.keys ? this.keyedGroups : this.groups).add(row));
    this.worker.wake(true);
    return saved;
  }

  /**
   * Queue many jobs of one type in one statement (all or none: one invalid payload refuses the
   * whole batch). Much faster than a loop of `dispatch()`.
   */
  dispatchMany<H>(job: ManagedJobClass<H>, items: DispatchManyItem<DispatchPayload<JobPayloadOf<H>>>[], manager?: DispatchOptions['manager']): Promise<ManagedJobEntity<JobPayloadOf<H>, JobResultOf<H>>[]>;
  dispatchMany(job: string, items: DispatchManyItem[], manager?: DispatchOptions['manager']): Promise<ManagedJobEntity[]>;
  async dispatchMany(job: JobReference, items: DispatchManyItem[], manager?: DispatchOptions['manager']): Promise<ManagedJobEntity[]> {
    if (!items.length) return [];
    const rows = await Promise.all(items.map((item) => this.prepare(job, item.payload, item.options ?? {})));
    const saved = await this.telemetry.dispatch(rows, () => this.store.insert(rows, manager, manager ? '' : this.worker.id));
    if (!manager) this.worker.wake(true);
    return saved;
  }

  private async prepare(job: JobReference, payload: unknown, options: DispatchOptions): Promise<NewJob> {
    const registered = this.registry.resolve(job);
    const json = await validatePayload(registered.name, registered.payload, payload);
    const owner = ownerIds(options);
    if (options.delayMs !== undefined && (!Number.isFinite(options.delayMs) || options.delayMs < 0)) {
      throw new ManagedJobsError(`delayMs must be a number ≥ 0; got ${options.delayMs}.`);
    }
    if (options.availableAt !== undefined && !(options.availableAt instanceof Date && !isNaN(options.availableAt.getTime()))) {
      throw new ManagedJobsError(`availableAt must be a valid Date.`);
    }
    const queue = options.queue ?? registered.queue ?? this.options.queue.name;
    const keys =
      options.uniqueKey === undefined && !hasQueueControl(registered.control)
        ? undefined
        : jobKeys(registered.name, registered.control, payload, { ownerUserId: owner.ownerUserId, ownerTenantId: owner.ownerTenantId, queue }, options.uniqueKey);
    const row: NewJob = {
      jobId: newJobId(),
      type: registered.name,
      queue,
      priority: Math.trunc(options.priority ?? registered.priority),
      payload: json,
      ownerUserId: owner.ownerUserId,
      ownerTenantId: owner.ownerTenantId,
      triggeredByUserId: triggeredById(options.triggeredBy),
      maxAttempts: registered.tries,
      idempotent: registered.idempotent,
      availableAt: options.availableAt ?? null,
      delayMs: options.delayMs ?? 0,
      retryUntil: null,
      stoppable: registered.stoppable,
      keys,
    };
    if (registered.retryUntil) row.retryUntil = retryUntilOf(registered.name, registered.retryUntil, pendingRecord(row));
    return row;
  }

  /**
   * The job, or null when it does not exist or is outside the scope. Name its class to type the
   * record: `find<ExportJob>(jobId)` has `payload` and `result` typed from `ExportJob.handle`.
   */
  async find<H = unknown>(jobId: string, scope?: JobScope): Promise<ManagedJobEntity<JobPayloadOf<H>, JobResultOf<H>> | null> {
    if (!isJobId(jobId)) return null;
    return this.store.find(jobId, scopeFilter(scope)) as Promise<ManagedJobEntity<JobPayloadOf<H>, JobResultOf<H>> | null>;
  }

  /**
   * Newest first, paginated. `owner` (or `ownerId` with `tenantId`) limits it to that owner pair's
   * jobs; `tenantId` alone to that tenant's.
   */
  async list(query: ListJobsQuery = {}): Promise<Page<ManagedJobEntity>> {
    const page = Math.max(1, Math.trunc(Number(query.page) || 1));
    const limit = Math.min(100, Math.max(1, Math.trunc(Number(query.limit) || 20)));
    if (query.batchId !== undefined && !isJobId(query.batchId)) return { data: [], meta: { page, limit, total: 0 } };
    const { rows, total } = await this.store.list({
      scope: scopeFilter(query),
      statuses: statusFilter(query.status),
      type: query.type,
      batchId: query.batchId,
      offset: (page - 1) * limit,
      limit,
    });
    return { data: rows, meta: { page, limit, total } };
  }

  /**
   * Stop a pending or running job: it is `stopped` at once, a pending one never runs and a
   * running one sees `ctx.isStopped()` (in this or any other process). Emits `managed-job.stopped`.
   */
  async stop(jobId: string, scope?: JobScope): Promise<ManagedJobEntity> {
    const filter = scopeFilter(scope);
    const member = isJobId(jobId) ? await this.store.find(jobId, filter) : null;
    const stopped = member?.batchId ? await this.workflows.stopMember(member, filter) : member ? await this.store.stop(jobId, filter) : null;
    if (!stopped) throw await this.whyNot(jobId, filter, 'stop');
    this.worker.onStopRequested(jobId);
    this.events.publish(new ManagedJobStoppedEvent(stopped));
    return stopped;
  }

  /**
   * Put a failed or stopped job back in the queue with a fresh set of tries. Its checkpoint state
   * and finished steps are kept, so it resumes where it left off.
   */
  async retry(jobId: string, scope?: JobScope): Promise<ManagedJobEntity> {
    const filter = scopeFilter(scope);
    const job = isJobId(jobId) ? await this.store.find(jobId, filter) : null;
    if (!job) throw new JobNotFoundError(String(jobId));
    const registered = this.registry.get(job.type);
    const tries = registered?.tries ?? 1;
    // As Laravel's queue:retry, a retried job gets a fresh retryUntil moment.
    const retryUntil = registered?.retryUntil ? retryUntilOf(registered.name, registered.retryUntil, job) : null;
    const retried = job.batchId ? await this.workflows.retryMember(job, tries, retryUntil, filter) : await this.store.retry(jobId, tries, filter, retryUntil);
    if (!retried) throw await this.whyNot(jobId, filter, 'retry');
    this.worker.wake(true);
    return retried;
  }

  /**
   * Resolves with the job once it is completed, failed or stopped, wherever it runs: at once when
   * it ends in this process, else within a gentle poll (100 ms, slowing to 1 s). Throws
   * `JobNotFoundError` for an unknown job and `JobWaitTimeoutError` after `timeoutMs`. Unscoped.
   */
  waitFor<H = unknown>(jobId: string, options: { timeoutMs?: number } = {}): Promise<ManagedJobEntity<JobPayloadOf<H>, JobResultOf<H>>> {
    return this.waiter.waitFor(jobId, options.timeoutMs) as Promise<ManagedJobEntity<JobPayloadOf<H>, JobResultOf<H>>>;
  }

  /**
   * Resolves when no job due now is pending or running on this process's worker queues (for tests
   * and scripts). Throws `JobWaitTimeoutError` after `timeoutMs`.
   */
  drain(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.waiter.drain(options.timeoutMs);
  }

  /** The job's unexpired files. */
  async files(jobId: string, scope?: JobScope): Promise<ManagedJobFileEntity[]> {
    const job = await this.find(jobId, scope);
    if (!job) throw new JobNotFoundError(String(jobId));
    return this.store.listFiles(jobId);
  }

  private async whyNot(jobId: string, scope: ScopeFilter | undefined, operation: 'stop' | 'retry'): Promise<Error> {
    const job = isJobId(jobId) ? await this.store.find(jobId, scope) : null;
    if (!job) return new JobNotFoundError(String(jobId));
    // Pending or running yet not stopped: the job refuses stops (`stoppable: false`, `ctx.disableStop()`).
    const stopDisabled = operation === 'stop' && (job.status === JobStatus.Pending || job.status === JobStatus.Running);
    return new JobStateConflictError(jobId, job.status, operation, stopDisabled);
  }
}

/** The record `retryUntil(job)` sees: as it will be inserted (`createdAt`: now, host clock). */
function pendingRecord(row: NewJob): ManagedJobEntity {
  const now = new Date();
  return insertedJob(row, { created_at: now, available_at: row.availableAt ?? new Date(now.getTime() + row.delayMs) });
}

const STATUSES = new Set<string>(Object.values(JobStatus));

/** Distinct, known statuses (a list of any length makes the same query). */
function statusFilter(status: JobStatus | JobStatus[] | undefined): JobStatus[] | undefined {
  if (status === undefined) return undefined;
  const distinct = [...new Set(([] as unknown[]).concat(status))];
  const unknown = distinct.filter((s) => typeof s !== 'string' || !STATUSES.has(s));
  if (unknown.length) throw new ManagedJobsError(INVALID_STATUS_FILTER(unknown.map(String).slice(0, 3), [...STATUSES]));
  return distinct as JobStatus[];
}
