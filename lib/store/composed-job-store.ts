import type { EntityManager } from 'typeorm';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import type {
  ClaimRequest,
  LimitedClaim,
  LimitedClaimRequest,
  ClusterLock,
  CompletedRun,
  Completion,
  Failure,
  FileStore,
  JobStore,
  ListFilter,
  MaintenanceStore,
  MonitoringStore,
  NewFile,
  NewJob,
  Notifier,
  JobCount,
  QueueDepth,
  QueueStore,
  ReapResult,
  RunRef,
  ScopeFilter,
  StoreCapabilities,
  StoreLifecycle,
} from './job-store.interface.js';
import type { BatchDriver } from './batch-store.interface.js';

/** One dialect's implementation of every capability. */
export interface StoreParts {
  dialect: JobStore['dialect'];
  capabilities: StoreCapabilities;
  queue: QueueStore;
  files: FileStore;
  maintenance: MaintenanceStore;
  monitoring: MonitoringStore;
  notifier: Notifier;
  lock: ClusterLock;
  lifecycle: StoreLifecycle;
  /** Workflow transactions (lib/workflows). */
  batches: BatchDriver;
}

/**
 * The `JobStore` the module provides: each method forwards to the part that owns it. The parts
 * stay reachable (`queue`, `files`, ...) for code that needs only one capability.
 */
export class ComposedJobStore implements JobStore {
  readonly dialect: JobStore['dialect'];
  readonly capabilities: StoreCapabilities;
  readonly queue: QueueStore;
  readonly files: FileStore;
  readonly maintenance: MaintenanceStore;
  readonly monitoring: MonitoringStore;
  readonly notifier: Notifier;
  readonly lock: ClusterLock;
  readonly batches: BatchDriver;
  private readonly lifecycle: StoreLifecycle;

  constructor(parts: StoreParts) {
    this.dialect = parts.dialect;
    this.capabilities = parts.capabilities;
    this.queue = parts.queue;
    this.files = parts.files;
    this.maintenance = parts.maintenance;
    this.monitoring = parts.monitoring;
    this.notifier = parts.notifier;
    this.lock = parts.lock;
    this.batches = parts.batches;
    this.lifecycle = parts.lifecycle;
  }

  // QueueStore
  insert(jobs: NewJob[], manager?: EntityManager, wakeOrigin?: string): Promise<ManagedJobEntity[]> {
    return this.queue.insert(jobs, manager, wakeOrigin);
  }
  find(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    return this.queue.find(jobId, scope);
  }
  list(filter: ListFilter): Promise<{ rows: ManagedJobEntity[]; total: number }> {
    return this.queue.list(filter);
  }

  countActiveTriggered(owner: ScopeFilter & { ownerUserId: string }): Promise<number> {
    return this.queue.countActiveTriggered(owner);
  }
  claim(claim: ClaimRequest): Promise<ManagedJobEntity[]> {
    return this.queue.claim(claim);
  }

  claimLimited(claim: LimitedClaimRequest): Promise<LimitedClaim> {
    return this.queue.claimLimited(claim);
  }
  renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]> {
    return this.queue.renewLeases(runs, workerId, leaseMs);
  }

  /** Present when the dialect's lease keeper can renew from a worker thread (see `QueueStore.leaseRenewal`). */
  get leaseRenewal(): QueueStore['leaseRenewal'] {
    return this.queue.leaseRenewal?.bind(this.queue);
  }
  complete(runs: Completion[], workerId: string): Promise<CompletedRun[]> {
    return this.queue.complete(runs, workerId);
  }
  completeAndClaim(runs: Completion[], claim: ClaimRequest): Promise<{ completed: CompletedRun[]; claimed: ManagedJobEntity[] }> {
    return this.queue.completeAndClaim(runs, claim);
  }
  /** Present when the dialect records completions and a limited claim in one transaction (see `QueueStore.completeAndClaimLimited`). */
  get completeAndClaimLimited(): QueueStore['completeAndClaimLimited'] {
    return this.queue.completeAndClaimLimited?.bind(this.queue);
  }
  fail(run: Failure, workerId: string): Promise<ManagedJobEntity | null> {
    return this.queue.fail(run, workerId);
  }
  release(runs: RunRef[], workerId: string, delayMs?: number): Promise<ManagedJobEntity[]> {
    return this.queue.release(runs, workerId, delayMs);
  }
  disableStop(run: RunRef): Promise<boolean> {
    return this.queue.disableStop(run);
  }
  updateProgress(run: RunRef, percent: number, message: string | null): Promise<ManagedJobEntity | null> {
    return this.queue.updateProgress(run, percent, message);
  }
  saveState(run: RunRef, state: string): Promise<boolean> {
    return this.queue.saveState(run, state);
  }
  loadSteps(jobId: string): Promise<Map<string, unknown>> {
    return this.queue.loadSteps(jobId);
  }
  saveStep(run: RunRef, name: string, result: string | null): Promise<boolean> {
    return this.queue.saveStep(run, name, result);
  }

  keepStoppedResult(run: RunRef, result: string): Promise<boolean> {
    return this.queue.keepStoppedResult(run, result);
  }
  stop(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    return this.queue.stop(jobId, scope);
  }
  retry(jobId: string, tries: number, scope?: ScopeFilter, retryUntil?: Date | null): Promise<ManagedJobEntity | null> {
    return this.queue.retry(jobId, tries, scope, retryUntil);
  }
  reap(maxLostRuns: number, lostReason: string): Promise<ReapResult> {
    return this.queue.reap(maxLostRuns, lostReason);
  }

  // FileStore
  addFile(run: RunRef, file: NewFile): Promise<ManagedJobFileEntity | null> {
    return this.files.addFile(run, file);
  }
  listFiles(jobId: string, includeExpired?: boolean): Promise<ManagedJobFileEntity[]> {
    return this.files.listFiles(jobId, includeExpired);
  }
  findFile(jobId: string, fileId: string): Promise<ManagedJobFileEntity | null> {
    return this.files.findFile(jobId, fileId);
  }
  expiredFiles(limit: number): Promise<ManagedJobFileEntity[]> {
    return this.files.expiredFiles(limit);
  }
  markFilesDeleted(fileIds: string[]): Promise<number> {
    return this.files.markFilesDeleted(fileIds);
  }
  filesOfJobs(jobIds: string[]): Promise<ManagedJobFileEntity[]> {
    return this.files.filesOfJobs(jobIds);
  }

  // MaintenanceStore
  prunableJobs(olderThanDays: number, limit: number): Promise<string[]> {
    return this.maintenance.prunableJobs(olderThanDays, limit);
  }
  pruneFinished(jobIds: string[], olderThanDays: number): Promise<number> {
    return this.maintenance.pruneFinished(jobIds, olderThanDays);
  }

  deleteJobs(jobIds: string[], statuses: string[]): Promise<number> {
    return this.maintenance.deleteJobs(jobIds, statuses);
  }

  // MonitoringStore
  queueDepth(): Promise<QueueDepth[]> {
    return this.monitoring.queueDepth();
  }
  oldestDueAgeMs(queues: string[]): Promise<number | null> {
    return this.monitoring.oldestDueAgeMs(queues);
  }

  jobCounts(type?: string): Promise<JobCount[]> {
    return this.monitoring.jobCounts(type);
  }

  // Notifier
  listen(onNotify: (payload: string) => void): Promise<void> {
    return this.notifier.listen(onNotify);
  }
  publishEvents(payloads: string[]): Promise<void> {
    return this.notifier.publishEvents(payloads);
  }
  listenEvents(onEvent: (payload: string) => void): Promise<void> {
    return this.notifier.listenEvents(onEvent);
  }
  hasEventListeners(): Promise<boolean> {
    return this.notifier.hasEventListeners();
  }

  // ClusterLock
  runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
    return this.lock.runExclusive(key, fn);
  }

  // StoreLifecycle
  warmUp(): Promise<void> {
    return this.lifecycle.warmUp();
  }
  close(): Promise<void> {
    return this.lifecycle.close();
  }
}
