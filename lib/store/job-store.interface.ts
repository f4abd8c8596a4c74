import type { EntityManager } from 'typeorm';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import type { JobStatus } from '../enums/job-status.enum.js';

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
  reason: string;
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
 * How a lease keeper thread renews leases on a connection of its own (lib/worker/lease-keeper.ts):
 * a worker thread loads `driver`, opens `connection` and runs `statement`, which was built for one
 * marker run that the thread replaces with the runs it holds.
 */
export interface LeaseRenewalTarget {
  driver: 'pg' | 'better-sqlite3';
  /** The driver module the data source uses, so that the thread loads the very same copy. */
  driverModule: unknown;
  /** pg `ClientConfig`, or the SQLite file (opened in WAL mode with a busy timeout). */
  connection: Record<string, unknown>;
  /** The renew statement of the marker run; it returns (PostgreSQL) or changes (SQLite) the rows still owned. */
  statement: { text: string; values: unknown[] };
  /** One statement renews every run (PostgreSQL arrays), or one statement per run in a transaction (SQLite). */
  batch: boolean;
}

/** A run whose completion was recorded (runs no longer theirs to complete are left out). */
export interface CompletedRun {
  jobId: string;
  finishedAt: Date;
}

/** Owner/tenant limits of a query; null fields do not filter. */
export interface ScopeFilter {
  ownerUserId: string | null;
  ownerTenantId: string | null;
}

export interface ListFilter extends Partial<ScopeFilter> {
  statuses?: JobStatus[];
  type?: string;
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
 * The only code that reads or writes the queue tables. One implementation per dialect; every
 * method is one statement (PostgreSQL) or one short immediate transaction (SQLite).
 */
export interface JobStore {
  readonly dialect: 'postgres' | 'sqlite';
  /** Insert jobs; through `manager` when given (the caller's transaction). */
  insert(jobs: NewJob[], manager?: EntityManager, wakeOrigin?: string): Promise<ManagedJobEntity[]>;
  find(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null>;
  list(filter: ListFilter): Promise<{ rows: ManagedJobEntity[]; total: number }>;
  /** Claim up to `limit` due jobs of one queue, of the given types (those this process can run), for `workerId`. */
  claim(claim: ClaimRequest): Promise<ManagedJobEntity[]>;
  /** Extend the leases of these runs; returns the ones this worker still owns and that still run. */
  renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]>;
  /**
   * What a lease keeper thread needs to renew this worker's leases off the event loop, with
   * `run` as the marker. A store without it has its leases renewed by `renewLeases` on the loop.
   */
  leaseRenewal?(run: RunRef, workerId: string, leaseMs: number): LeaseRenewalTarget;
  /** Record completed runs of `workerId` (job rows and ledger rows). */
  complete(runs: Completion[], workerId: string): Promise<CompletedRun[]>;
  /**
   * A busy worker's round trip: record these completions and claim the next jobs in one
   * statement (PostgreSQL) or one immediate transaction (SQLite).
   */
  completeAndClaim(runs: Completion[], claim: ClaimRequest): Promise<{ completed: CompletedRun[]; claimed: ManagedJobEntity[] }>;
  fail(run: Failure, workerId: string): Promise<ManagedJobEntity | null>;
  /** Hand runs of `workerId` back to the queue without using up a try (shutdown). */
  release(runs: RunRef[], workerId: string): Promise<ManagedJobEntity[]>;
  updateProgress(run: RunRef, percent: number, message: string | null): Promise<ManagedJobEntity | null>;
  saveState(run: RunRef, state: string): Promise<boolean>;
  loadSteps(jobId: string): Promise<Map<string, unknown>>;
  saveStep(run: RunRef, name: string, result: string | null): Promise<boolean>;
  /** Pending/running → stopped. Null when no such job in scope or not stoppable (see `find`). */
  stop(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null>;
  /** Failed/stopped → pending with `tries` more tries. Null when not found in scope or not retryable. */
  retry(jobId: string, tries: number, scope?: ScopeFilter): Promise<ManagedJobEntity | null>;
  /** Return runs whose lease ran out: re-queue idempotent ones, fail the rest. */
  reap(maxLostRuns: number, lostReason: string): Promise<ReapResult>;
  addFile(run: RunRef, file: NewFile): Promise<ManagedJobFileEntity | null>;
  listFiles(jobId: string, includeExpired?: boolean): Promise<ManagedJobFileEntity[]>;
  findFile(jobId: string, fileId: string): Promise<ManagedJobFileEntity | null>;
  /** Expired, not yet deleted files, oldest first. */
  expiredFiles(limit: number): Promise<ManagedJobFileEntity[]>;
  markFilesDeleted(fileIds: string[]): Promise<number>;
  /** Up to `limit` ids of jobs that finished more than `olderThanDays` ago, oldest first. */
  prunableJobs(olderThanDays: number, limit: number): Promise<string[]>;
  /** The not yet deleted files (expired or not) of these jobs. */
  filesOfJobs(jobIds: string[]): Promise<ManagedJobFileEntity[]>;
  /**
   * Delete these jobs if they are still finished more than `olderThanDays` ago (a job retried in
   * between is kept); their files, steps and attempts cascade. Returns how many.
   */
  pruneFinished(jobIds: string[], olderThanDays: number): Promise<number>;
  /**
   * Run `fn` only if no other holder of `key` runs it now: a session advisory lock on a dedicated
   * connection on PostgreSQL (any number of servers), an in-process lock on SQLite (one host).
   */
  runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }>;
  /** Wake-up hints from other connections: PostgreSQL LISTEN, or SQLite `PRAGMA data_version` checks. */
  listen(onNotify: (payload: string) => void): Promise<void>;
  /** Send job events to the other processes, in order (PostgreSQL NOTIFY, each under 8000 bytes); a no-op on SQLite. */
  publishEvents(payloads: string[]): Promise<void>;
  /** Receive the job events of other processes (PostgreSQL LISTEN); a no-op on SQLite. */
  listenEvents(onEvent: (payload: string) => void): Promise<void>;
  /** Whether another process listens for job events (PostgreSQL: holds the listener lock); false on SQLite. */
  hasEventListeners(): Promise<boolean>;
  /** Open a few pooled connections ahead of the first jobs (PostgreSQL); a no-op on SQLite. */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}
