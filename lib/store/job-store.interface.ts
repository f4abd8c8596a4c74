import type { EntityManager } from 'typeorm';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import type { JobStatus } from '../enums/job-status.enum.js';
import type { JobKeys } from '../queue-control/queue-control.js';
import type { BatchDriver } from './batch-store.interface.js';

/**
 * The store, narrowed by capability: the queue (`QueueStore`), job files (`FileStore`), pruning
 * (`MaintenanceStore`), wake-ups and job events between processes (`Notifier`) and the cluster
 * lock (`ClusterLock`). Each dialect implements each part in its own file (`postgres/`,
 * `sqlite/`, `mysql/` for MySQL and MariaDB); `createJobStore` composes them into one `JobStore`. What differs between dialects
 * and matters to callers is said by `capabilities`, never by the dialect's name.
 */

/** A row to insert. JSON values arrive already serialised. */
export interface NewJob {
  jobId: string;
  type: string;
  queue: string;
  priority: number;
  payload: string;
  ownerUserId: string | null;
  ownerTenantId: string | null;
  triggeredByUserId: string | null;
  maxAttempts: number;
  idempotent: boolean;
  /** Exactly one of `availableAt` / `delayMs` is used; neither means "now" on the database clock. */
  availableAt: Date | null;
  delayMs: number;
  /** From the job's `retryUntil()`, evaluated at dispatch. */
  retryUntil: Date | null;
  stoppable: boolean;
  /** The dispatch's W3C trace context (JSON), when telemetry is on. */
  traceContext?: string | null;
  /** Unique, concurrency and rate keys (lib/queue-control); absent for a plain job, which keeps the plain insert. */
  keys?: JobKeys;
}

/** Identifies one run of a job: writes that name a stale fence change nothing. */
export interface RunRef {
  jobId: string;
  fence: number;
}

export interface Completion extends RunRef {
  result: string | null;
  progress: number;
  message: string | null;
}

export interface Failure extends RunRef {
  /** The job's `failed_reason`: the error's message. */
  reason: string;
  /** The ledger row's `error`: the message and the stack. */
  error: string;
  /** Seconds until the next try, or null when the job fails for good. */
  retryInSeconds: number | null;
  outcome: 'failed' | 'timeout';
  progress: number;
  message: string | null;
}

/** A claim: up to `limit` due jobs of `queue` of these `types` (the ones this process can run). */
export interface ClaimRequest {
  queue: string;
  types: string[];
  limit: number;
  workerId: string;
  leaseMs: number;
}

/**
 * A claim of one job type under a concurrency limit and/or a rate limit (lib/queue-control):
 * keys with due jobs are served in turn (least recently served first), never more than
 * `concurrency` running per concurrency key, never more than `rate.max` starts per rate key in
 * any window of `rate.perSeconds`.
 */
export interface LimitedClaimRequest extends ClaimRequest {
  /** Exactly one type. */
  type: string;
  concurrency: number | null;
  rate: { max: number; perSeconds: number } | null;
}

export interface LimitedClaim {
  jobs: ManagedJobEntity[];
  /** When a rate window opens for a key that has due jobs but no start left now; null when none waits on a window. */
  retryAt: Date | null;
}

/**
 * How a lease keeper thread renews leases on a connection of its own (lib/worker/lease-keeper.ts):
 * a worker thread loads `driver`, opens `connection` (then runs `setup`) and runs `statement`,
 * which renews every run the worker owns.
 */
export interface LeaseRenewalTarget {
  driver: 'pg' | 'better-sqlite3' | 'mysql2';
  /** The driver module the data source uses, so that the thread loads the very same copy. */
  driverModule: unknown;
  /** pg `ClientConfig`, mysql2 connection options, or the SQLite file (opened in WAL mode with a busy timeout). */
  connection: Record<string, unknown>;
  /** Statements run once on the thread's connection when it opens. */
  setup?: string[];
  /** Renews every run of the worker, by owner (the thread knows no list of runs). */
  statement: { text: string; values: unknown[] };
  /**
   * SQLite: the thread also checkpoints the write-ahead log (PASSIVE, every `everyMs`) on its own
   * connection, so the loop's commits never do (a checkpoint writes and syncs the database file
   * inside the commit that crosses the log's 1,000 pages). `onThread(true)` when the thread took
   * the checkpoints over, `onThread(false)` when it gave them back (it failed, exited or stopped).
   */
  walCheckpoint?: { everyMs: number; onThread(taken: boolean): void };
}

/** A run whose completion was recorded (runs no longer theirs to complete are left out). */
export interface CompletedRun {
  jobId: string;
  finishedAt: Date;
}

/**
 * Whose jobs a query may touch. With a user: exactly that owner pair (a null tenant matches only
 * jobs without a tenant). With only a tenant: every job of that tenant.
 */
export type ScopeFilter = { ownerUserId: string; ownerTenantId: string | null } | { ownerUserId: null; ownerTenantId: string };

export interface ListFilter {
  scope?: ScopeFilter;
  /** Every job of this user id, whatever its tenant (public socket rooms only). */
  anyTenantOfUser?: string;
  /** Distinct statuses; the SQL text does not depend on how many. */
  statuses?: JobStatus[];
  type?: string;
  /** Only the members of this batch. */
  batchId?: string;
  offset: number;
  limit: number;
}

export interface ReapResult {
  requeued: ManagedJobEntity[];
  failed: ManagedJobEntity[];
}

export interface NewFile {
  jobFileId: string;
  jobId: string;
  filename: string;
  path: string;
  mimeType: string;
  sizeBytes: number;
  expiresAt: Date | null;
  expiryDays: number;
}

/**
 * The queue: jobs and their runs. Every method is one statement (PostgreSQL) or one short
 * immediate transaction (SQLite). Every write of a run matches its fence: a stale one changes nothing.
 */
export interface QueueStore {
  /** Insert jobs; through `manager` when given (the caller's transaction). */
  insert(jobs: NewJob[], manager?: EntityManager, wakeOrigin?: string): Promise<ManagedJobEntity[]>;
  find(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null>;
  list(filter: ListFilter): Promise<{ rows: ManagedJobEntity[]; total: number }>;
  /** Pending and running jobs of this owner pair that the owner triggered itself (dispatched over HTTP). */
  countActiveTriggered(owner: ScopeFilter & { ownerUserId: string }): Promise<number>;
  /** Claim up to `limit` due jobs of one queue, of the given types (those this process can run), for `workerId`. */
  claim(claim: ClaimRequest): Promise<ManagedJobEntity[]>;
  /** Claim due jobs of one concurrency- or rate-limited type (see `LimitedClaimRequest`), in one transaction. */
  claimLimited(claim: LimitedClaimRequest): Promise<LimitedClaim>;
  /** Extend the leases of these runs; returns the ones this worker still owns and that still run. */
  renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]>;
  /**
   * What a lease keeper thread needs to renew this worker's leases off the event loop (every run
   * the worker owns, by owner). A store without it has its leases renewed by `renewLeases` on the loop.
   */
  leaseRenewal?(workerId: string, leaseMs: number): LeaseRenewalTarget;
  /** Record completed runs of `workerId` (job rows and ledger rows). */
  complete(runs: Completion[], workerId: string): Promise<CompletedRun[]>;
  /**
   * A busy worker's round trip: record these completions and claim the next jobs in one
   * statement (PostgreSQL) or one immediate transaction (SQLite).
   */
  completeAndClaim(runs: Completion[], claim: ClaimRequest): Promise<{ completed: CompletedRun[]; claimed: ManagedJobEntity[] }>;
  /**
   * `complete` then `claimLimited`, in one transaction (all or nothing). Present where that saves
   * a commit (SQLite: statements run one at a time) or round trips (PostgreSQL: a concurrency-keyed
   * claim and the completions are one statement); elsewhere (MySQL/MariaDB) they are sent apart.
   */
  completeAndClaimLimited?(runs: Completion[], claim: LimitedClaimRequest): Promise<{ completed: CompletedRun[]; claimed: LimitedClaim }>;
  fail(run: Failure, workerId: string): Promise<ManagedJobEntity | null>;
  /**
   * Hand runs of `workerId` back to the queue without using up a try, due again in `delayMs`
   * (shutdown, and `ctx.release()`); ledger outcome `released`.
   */
  release(runs: RunRef[], workerId: string, delayMs?: number): Promise<ManagedJobEntity[]>;
  /**
   * `ctx.disableStop()`: from now until this run ends, `stop()` refuses the job. False when the
   * run no longer owns the job (stopped first, reaped). Serialised with `stop` on the job's row.
   */
  disableStop(run: RunRef): Promise<boolean>;
  updateProgress(run: RunRef, percent: number, message: string | null): Promise<ManagedJobEntity | null>;
  saveState(run: RunRef, state: string): Promise<boolean>;
  loadSteps(jobId: string): Promise<Map<string, unknown>>;
  saveStep(run: RunRef, name: string, result: string | null): Promise<boolean>;
  /**
   * What a stopped run's handler returned after the stop: kept as `result` of that run only (the
   * job still `stopped` with the run's fence, no result yet). False when the job moved on.
   */
  keepStoppedResult(run: RunRef, result: string): Promise<boolean>;
  /**
   * Pending/running → stopped. Null when no such job in scope, not pending/running, or refusing
   * stops (`stoppable` false, or running a run that called `disableStop`): see `find`.
   */
  stop(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null>;
  /**
   * Failed/stopped → pending with a fresh set of `tries` (attempts back to 0) and, when given, a
   * new `retryUntil` moment (else the stored one is kept). Null when not found in scope or not retryable.
   */
  retry(jobId: string, tries: number, scope?: ScopeFilter, retryUntil?: Date | null): Promise<ManagedJobEntity | null>;
  /** Return runs whose lease ran out: re-queue idempotent ones, fail the rest. */
  reap(maxLostRuns: number, lostReason: string): Promise<ReapResult>;
}

/** Files saved by runs (fenced like every write of a run) and their expiry. */
export interface FileStore {
  addFile(run: RunRef, file: NewFile): Promise<ManagedJobFileEntity | null>;
  listFiles(jobId: string, includeExpired?: boolean): Promise<ManagedJobFileEntity[]>;
  findFile(jobId: string, fileId: string): Promise<ManagedJobFileEntity | null>;
  /** Expired, not yet deleted files, oldest first. */
  expiredFiles(limit: number): Promise<ManagedJobFileEntity[]>;
  markFilesDeleted(fileIds: string[]): Promise<number>;
  /** The not yet deleted files (expired or not) of these jobs. */
  filesOfJobs(jobIds: string[]): Promise<ManagedJobFileEntity[]>;
}

/** Pruning of finished jobs. */
export interface MaintenanceStore {
  /** Up to `limit` ids of jobs that finished more than `olderThanDays` ago, oldest first. */
  prunableJobs(olderThanDays: number, limit: number): Promise<string[]>;
  /**
   * Delete these jobs if they are still finished more than `olderThanDays` ago (a job retried in
   * between is kept); their files, steps and attempts cascade. Returns how many.
   */
  pruneFinished(jobIds: string[], olderThanDays: number): Promise<number>;
  /**
   * Delete these jobs if their status is one of `statuses` (the operator's delete and clearQueue;
   * files and steps cascade, the ledger goes with them). Returns how many.
   */
  deleteJobs(jobIds: string[], statuses: string[]): Promise<number>;
}

/** Jobs of one queue in one status (the queue depth gauge). */
export interface QueueDepth {
  queue: string;
  status: 'pending' | 'running';
  count: number;
}

/**
 * Cheap reads for metrics and health checks. Each reads only the active rows through an index
 * (never a count over every job ever kept), and answers in one statement.
 */
export interface MonitoringStore {
  /** Pending and running jobs per queue (queues without any are left out). */
  queueDepth(): Promise<QueueDepth[]>;
  /** How long, on the database clock, the oldest due pending job of `queues` has waited; null when none is due. */
  oldestDueAgeMs(queues: string[]): Promise<number | null>;
  /**
   * Exact job counts per queue and status (every status, pairs without jobs left out; of one job
   * type when `type` is given), as of one moment: live ones through their indexes, ended ones from
   * the ended counts and those that finished since their watermark (`<dialect>/ended-counts.sql.ts`).
   * Not one count over every kept job.
   */
  jobCounts(type?: string): Promise<JobCount[]>;
}

/** Jobs of one queue in one status. */
export interface JobCount {
  queue: string;
  status: string;
  count: number;
}

/**
 * Messages between processes. Wake-ups are hints (workers keep polling), encoded and decoded by
 * `wake-message.ts` only; job events are opaque text (the relay's encoding).
 */
export interface Notifier {
  /**
   * Wake-up hints from other connections (a `wake-message.ts` text): PostgreSQL LISTEN, or
   * SQLite `PRAGMA data_version` checks (which can only say "something was committed").
   */
  listen(onNotify: (payload: string) => void): Promise<void>;
  /** Send job events to the other processes, in order (each under 8000 bytes); a no-op without `crossProcessEvents`. */
  publishEvents(payloads: string[]): Promise<void>;
  /** Receive the job events of other processes; a no-op without `crossProcessEvents`. */
  listenEvents(onEvent: (payload: string) => void): Promise<void>;
  /** Whether another process listens for job events; always false without `crossProcessEvents`. */
  hasEventListeners(): Promise<boolean>;
}

/** One holder at a time for a named task, across every process that shares the database. */
export interface ClusterLock {
  /**
   * Run `fn` only if no other holder of `key` runs it now: a session advisory lock on a dedicated
   * connection on PostgreSQL (any number of servers), an in-process lock on SQLite (one host).
   */
  runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }>;
}

/** What a database can do, for the callers whose behaviour depends on it. */
export interface StoreCapabilities {
  /**
   * Job events published by one process reach `listenEvents` in the others (PostgreSQL NOTIFY).
   * When false, events stay in the process that ran the job: relaying them is pointless.
   */
  readonly crossProcessEvents: boolean;
  /**
   * Statements run asynchronously on a pool, so a worker gains by keeping several in flight
   * (PostgreSQL). When false every statement runs to completion synchronously (SQLite): a second
   * one in flight would only wait for the first.
   */
  readonly overlappingStatements: boolean;
}

/** Opening and closing the store's own connections. */
export interface StoreLifecycle {
  /** Open a few pooled connections ahead of the first jobs (PostgreSQL); a no-op on SQLite. */
  warmUp(): Promise<void>;
  /** Close the store's own connections and timers (not the application's data source). */
  close(): Promise<void>;
}

/** The whole store, as the module provides it. */
export interface JobStore extends QueueStore, FileStore, MaintenanceStore, MonitoringStore, Notifier, ClusterLock, StoreLifecycle {
  /** For messages and logs only: branch on `capabilities`, not on the dialect. */
  readonly dialect: 'postgres' | 'sqlite' | 'mysql' | 'mariadb';
  readonly capabilities: StoreCapabilities;
  /** Workflow transactions (lib/workflows). */
  readonly batches: BatchDriver;
}
