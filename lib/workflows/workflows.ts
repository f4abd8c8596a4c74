/**
 * Batches, chains and DAGs (DESIGN "Workflows"): checks and writes batches, runs the workflow
 * transactions of `batch-programs.ts` through the dialect's `BatchDriver`, and publishes what
 * they changed (`managed-batch.progress` / `managed-batch.finished`, stop requests, wake-ups).
 *
 * Only members go through here: the run executor and `JobRunnerService` branch on a job's
 * `batchId`, so a plain job's run end costs what it did.
 */
import { newJobId } from '../ids/job-id.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { BATCH_INVALID_OPTION, BATCH_MEMBER_KEYED } from '../managed-jobs.messages.js';
import { BatchNotFoundError, BatchNotRunningError, InvalidBatchError } from '../errors/workflow.errors.js';
import { InvalidJobPayloadError } from '../errors/managed-jobs.errors.js';
import type { DispatchOptions } from '../interfaces/dispatch-options.interface.js';
import type { JobScope } from '../interfaces/job-owner.interface.js';
import type { JobEventsPublisher } from '../events/job-events.publisher.js';
import type { CompletedRun, Completion, Failure, JobStore, NewJob, ScopeFilter } from '../store/job-store.interface.js';
import { ownerIds, scopeFilter, triggeredById } from '../services/job-scope.js';
import { BatchStatus, type BatchCallback, type BatchItem, type BatchOptions, type BatchRecord } from './batch.interfaces.js';
import { ManagedBatchFinishedEvent, ManagedBatchProgressEvent } from './batch.events.js';
import { checkItems, chained, planMembers } from './batch-plan.js';
import { toBatchRecord, type BatchCallbacks, type BatchRow, type CallbackTemplate, type NewBatchRow } from './batch-row.js';
import * as programs from './batch-programs.js';

export interface WorkflowDeps {
  store: JobStore;
  events: JobEventsPublisher;
  /** Validates a payload and builds the job row, as `dispatch()` does. */
  prepare(job: Function | string, payload: unknown, options: DispatchOptions): Promise<NewJob>;
  /**
   * Runs `write` inside one dispatch span for these rows (telemetry: it writes the span's trace
   * context into each row first, so every member's run span is its child, in any process).
   */
  traced<T>(rows: NewJob[], write: () => Promise<T>): Promise<T>;
  /** A running member of this process was stopped. */
  stopRequested(jobId: string): void;
  /** Jobs became due. */
  wake(): void;
}

type Member = Pick<ManagedJobEntity, 'jobId' | 'batchId' | 'batchKey'>;

/** Member completions written by one transaction at most. */
const MAX_COMPLETIONS_PER_TRANSACTION = 200;

export class Workflows {
  constructor(private readonly deps: WorkflowDeps) {}

  private get driver() {
    return this.deps.store.batches;
  }

  async batch(items: BatchItem[], options: BatchOptions = {}): Promise<BatchRecord> {
    checkItems(items);
    const owner = ownerIds(options);
    const policy = checkPolicy(options.failurePolicy);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length > 255)) {
      throw new InvalidBatchError('invalidOption', BATCH_INVALID_OPTION('name', 'a string of at most 255 characters'));
    }
    const memberOptions: DispatchOptions = { ownerId: owner.ownerUserId, tenantId: owner.ownerTenantId, triggeredBy: options.triggeredBy };
    const rows = await this.prepareMembers(items, memberOptions);
    const callbacks: BatchCallbacks = {};
    for (const which of ['then', 'catch', 'finally'] as const) {
      const cb = options[which];
      if (cb) callbacks[which] = template(await this.prepareCallback(cb, memberOptions));
    }
    const batch: NewBatchRow = {
      batchId: newJobId(),
      name: options.name ?? null,
      total: items.length,
      failurePolicy: policy.policy,
      failureThreshold: policy.threshold,
      callbacks: Object.keys(callbacks).length ? JSON.stringify(callbacks) : null,
      ...owner,
      triggeredByUserId: triggeredById(options.triggeredBy),
    };
    const manager = options.manager;
    const plan = await this.deps.traced(rows, async () => {
      // then / catch / finally run in the batch's trace too (their rows are written later, by the finisher).
      const traceContext = rows[0]?.traceContext ?? null;
      if (traceContext) for (const cb of Object.values(callbacks)) cb!.traceContext = traceContext;
      batch.callbacks = Object.keys(callbacks).length ? JSON.stringify(callbacks) : null;
      const members = planMembers(items, rows);
      const make = () => programs.createBatch(this.driver.sql, batch, members);
      await (manager ? this.driver.runWith(manager, make) : this.driver.run(make));
      return members;
    });
    if (manager) return toBatchRecord({ ...rowOf(batch), created_at: new Date() }, 0);
    if (plan.waiting.length < rows.length) this.deps.wake();
    return (await this.findBatch(batch.batchId))!;
  }

  chain(items: BatchItem[], options: BatchOptions = {}): Promise<BatchRecord> {
    return this.batch(Array.isArray(items) ? chained(items) : items, options);
  }

  /** `ctx.batch.add()`: members for the batch's owner, in one transaction. */
  async add(batchId: string, items: BatchItem[]): Promise<void> {
    const [batch] = await this.driver.read(this.driver.sql.findBatch(batchId));
    if (!batch) throw new BatchNotFoundError(batchId);
    if (batch.status !== BatchStatus.Running) throw new BatchNotRunningError(batchId, batch.status);
    const named = [...new Set(items.flatMap((i) => i.dependsOn ?? []).concat(items.flatMap((i) => (i.key === undefined ? [] : [i.key]))))];
    const known = new Map<string, string>();
    for (let i = 0; i < named.length; i += 500) {
      for (const r of await this.driver.read(this.driver.sql.membersByKey(batchId, named.slice(i, i + 500)))) known.set(r.batch_key, r.job_id);
    }
    checkItems(items, new Set(known.keys()));
    const rows = await this.prepareMembers(items, { ownerId: batch.owner_user_id, tenantId: batch.owner_tenant_id, triggeredBy: batch.triggered_by_user_id });
    const keys = items.flatMap((i) => i.dependsOn ?? []);
    const after = await this.deps.traced(rows, () =>
      this.driver.run(() => programs.addMembers(this.driver.sql, batchId, (existing) => planMembers(items, rows, existing), keys)),
    );
    if (!after) throw new BatchNotFoundError(batchId);
    if (after.status !== BatchStatus.Running) throw new BatchNotRunningError(batchId, after.status);
    this.deps.wake();
  }

  async findBatch(batchId: string, scope?: JobScope): Promise<BatchRecord | null> {
    if (!isId(batchId)) return null;
    const [row] = await this.driver.read(this.driver.sql.findBatch(batchId, scopeFilter(scope)));
    if (!row) return null;
    const counts = await this.driver.read(this.driver.sql.memberCounts(batchId));
    const running = Number(counts.find((c) => c.status === 'running')?.n ?? 0);
    return toBatchRecord(row, running);
  }

  async cancelBatch(batchId: string, scope?: JobScope): Promise<BatchRecord> {
    const filter = scopeFilter(scope);
    const change = isId(batchId) ? await this.driver.run(() => programs.cancelBatch(this.driver.sql, batchId, (row) => inScope(row, filter))) : null;
    if (!change?.batch) throw new BatchNotFoundError(String(batchId));
    this.publish(change, true);
    return toBatchRecord(change.batch, await this.running(batchId));
  }

  async isCancelled(batchId: string): Promise<boolean> {
    const [row] = await this.driver.read(this.driver.sql.findBatch(batchId));
    return row?.status === BatchStatus.Cancelled;
  }

  /** The stored result of each direct dependency of `jobId`, by key. */
  async dependencyResults(jobId: string): Promise<Record<string, unknown>> {
    const rows = await this.driver.read(this.driver.sql.dependencyResults(jobId));
    const out: Record<string, unknown> = {};
    for (const r of rows) out[r.batch_key ?? ''] = r.result === null || r.result === undefined ? null : typeof r.result === 'string' ? JSON.parse(r.result) : r.result;
    return out;
  }

  // Run ends of members (the run executor, the reaper and JobRunnerService call these for jobs with a batchId).

  /**
   * A member's completion. Completions that arrive while one transaction is in flight wait and go
   * together in the next (one counter move per batch for all of them), as the claim loop batches
   * plain completions: a big batch's members would otherwise queue one by one on its row lock.
   */
  completeMember(job: Member, completion: Completion, workerId: string): Promise<CompletedRun | null> {
    return new Promise((resolve, reject) => {
      this.completions.push({ job, completion, workerId, resolve, reject });
      this.flushing ??= this.flushCompletions();
    });
  }

  private readonly completions: Array<{ job: Member; completion: Completion; workerId: string; resolve: (run: CompletedRun | null) => void; reject: (error: unknown) => void }> = [];
  private flushing?: Promise<void>;

  private async flushCompletions(): Promise<void> {
    while (this.completions.length) {
      const group = this.completions.splice(0, MAX_COMPLETIONS_PER_TRANSACTION);
      const workerId = group[0].workerId;
      const same = group.filter((g) => g.workerId === workerId);
      this.completions.unshift(...group.filter((g) => g.workerId !== workerId));
      try {
        const items = same.map((g) => ({ member: ref(g.job), completion: g.completion }));
        const { done, changes } = await this.driver.run(() => programs.completeMembers(this.driver.sql, items, workerId, this.driver.endsMembersInOneStatement));
        for (const change of changes) this.publish(change, false);
        const ended = new Set(done);
        const at = new Date();
        for (const g of same) g.resolve(ended.has(g.job.jobId) ? { jobId: g.job.jobId, finishedAt: at } : null);
      } catch (error) {
        for (const g of same) g.reject(error);
      }
    }
    this.flushing = undefined;
  }

  async failMember(job: Member, failure: Failure, workerId: string): Promise<ManagedJobEntity | null> {
    const ended = await this.driver.run(() => programs.failMember(this.driver.sql, ref(job), failure, workerId));
    if (ended?.change) this.publish(ended.change, false);
    return ended?.job ?? null;
  }

  async memberFailed(job: Member): Promise<void> {
    const change = await this.driver.run(() => programs.memberFailed(this.driver.sql, ref(job)));
    if (change) this.publish(change, false);
  }

  async stopMember(job: Member, scope: ScopeFilter | undefined): Promise<ManagedJobEntity | null> {
    const ended = await this.driver.run(() => programs.stopMember(this.driver.sql, ref(job), scope));
    if (ended) this.publish(ended.change, false);
    return ended?.job ?? null;
  }

  async retryMember(job: Member, tries: number, retryUntil: Date | null, scope: ScopeFilter | undefined): Promise<ManagedJobEntity | null> {
    const ended = await this.driver.run(() => programs.retryMember(this.driver.sql, ref(job), tries, retryUntil, scope));
    if (ended) this.publish(ended.change, false);
    return ended?.job ?? null;
  }

  /** Members running now: a few entries of the batch index (read after the commit, outside the batch lock). */
  private async running(batchId: string): Promise<number> {
    const [row] = await this.driver.read(this.driver.sql.countRunning(batchId));
    return Number(row?.n ?? 0);
  }

  /**
   * Stop requests and wake-ups at once; the batch events (when anyone listens) after reading the
   * running count, progress before finished. `always`: a cancel publishes only `finished`.
   */
  private publish(change: programs.BatchChange, always: boolean): void {
    for (const jobId of change.stoppedRunning) this.deps.stopRequested(jobId);
    if (change.queued) this.deps.wake();
    const batch = change.batch;
    if (!batch || !this.deps.events.wantsBatches()) return;
    // One after the other, so that events leave in the order of their transactions.
    this.published = this.published.then(async () => {
      const record = toBatchRecord(batch, await this.running(batch.batch_id).catch(() => 0));
      if (!always || !change.finished) this.deps.events.publishBatch(new ManagedBatchProgressEvent(record));
      if (change.finished) this.deps.events.publishBatch(new ManagedBatchFinishedEvent(record));
    });
  }

  private published: Promise<void> = Promise.resolve();

  private async prepareMembers(items: BatchItem[], owner: DispatchOptions): Promise<NewJob[]> {
    const rows: NewJob[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      let row: NewJob;
      try {
        row = await this.deps.prepare(item.job, item.payload, { ...owner, queue: item.queue, priority: item.priority, delayMs: item.delayMs });
      } catch (error) {
        if (error instanceof InvalidJobPayloadError) Object.assign(error, { memberIndex: i, memberKey: item.key ?? null });
        throw error;
      }
      if (row.keys) throw new InvalidBatchError('unsupportedMember', BATCH_MEMBER_KEYED(row.type));
      rows.push(row);
    }
    return rows;
  }

  private async prepareCallback(cb: BatchCallback, owner: DispatchOptions): Promise<NewJob> {
    if (!cb || typeof cb !== 'object' || cb.job === undefined) throw new InvalidBatchError('invalidOption', BATCH_INVALID_OPTION('then / catch / finally', '{ job, payload }'));
    const row = await this.deps.prepare(cb.job, cb.payload, owner);
    return { ...row, keys: undefined };
  }
}

function template(row: NewJob): CallbackTemplate {
  const { jobId: _id, availableAt: _a, delayMs: _d, retryUntil: _r, keys: _k, ...rest } = row;
  return rest;
}

function ref(job: Member) {
  return { jobId: job.jobId, batchId: job.batchId!, key: job.batchKey ?? null };
}

function checkPolicy(policy: BatchOptions['failurePolicy']): { policy: NewBatchRow['failurePolicy']; threshold: number | null } {
  if (policy === undefined || policy === 'failFast') return { policy: 'failFast', threshold: null };
  if (policy === 'continue') return { policy: 'continue', threshold: null };
  if (policy && typeof policy === 'object' && Number.isInteger(policy.threshold) && policy.threshold >= 0) return { policy: 'threshold', threshold: policy.threshold };
  throw new InvalidBatchError('invalidOption', BATCH_INVALID_OPTION('failurePolicy', `'failFast', 'continue' or { threshold: n } with an integer n ≥ 0`));
}

function inScope(row: BatchRow, scope: ScopeFilter | undefined): boolean {
  if (!scope) return true;
  if (scope.ownerUserId !== null && row.owner_user_id !== scope.ownerUserId) return false;
  return (row.owner_tenant_id ?? null) === scope.ownerTenantId;
}

function rowOf(b: NewBatchRow): BatchRow {
  return {
    batch_id: b.batchId,
    name: b.name,
    status: BatchStatus.Running,
    total: b.total,
    completed: 0,
    failed: 0,
    stopped: 0,
    owner_user_id: b.ownerUserId,
    owner_tenant_id: b.ownerTenantId,
    finished_at: null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isId = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);
