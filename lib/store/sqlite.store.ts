import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import type BetterSqlite3 from 'better-sqlite3';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import { SQLITE_MEMORY } from '../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import type {
  ClaimRequest,
  CompletedRun,
  Completion,
  Failure,
  JobStore,
  ListFilter,
  NewFile,
  NewJob,
  LeaseRenewalTarget,
  ReapResult,
  RunRef,
  ScopeFilter,
} from './job-store.interface.js';
import { byPriorityThenAge, insertedJob, toDate, toFile, toJob, utcText } from './row-mapper.js';
import * as sql from './sql/sqlite.sql.js';

/** How often the worker checks whether another connection committed (see `listen`). */
const DATA_VERSION_CHECK_MS = 15;
/** How long a write may keep meeting a lock held by another connection before it gives up. */
const BUSY_DEADLINE_MS = 30_000;

/** `runExclusive` keys held in this process (database file + key). */
const heldLocks = new Set<string>();

/**
 * SQLite store on its own connection to the app's database file.
 *
 * Why a second connection: TypeORM's better-sqlite3 driver has a single connection, so a caller's
 * open transaction would be visible to (and joined by) anything else on it: the worker could
 * claim a job whose dispatch is later rolled back. Our connection sees committed rows only.
 *
 * Locking: WAL lets readers and one writer proceed together. Our writes are short synchronous
 * transactions; when another connection holds the write lock we wait at most `busy_timeout`
 * (a few ms, so the event loop is never blocked for long, and a caller's open transaction in this
 * same process can finish) and then retry asynchronously with jitter. "database is locked" never
 * reaches a caller unless the lock is held for `BUSY_DEADLINE_MS`.
 */
export class SqliteJobStore implements JobStore {
  readonly dialect = 'sqlite' as const;
  private readonly db: BetterSqlite3.Database;
  private readonly Database: typeof BetterSqlite3;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private versionTimer?: NodeJS.Timeout;

  constructor(dataSource: DataSource) {
    const driver = dataSource.driver as any;
    const file: string = driver.databaseConnection?.name ?? (dataSource.options as any).database;
    if (!file || file === ':memory:' || driver.databaseConnection?.memory) throw new ManagedJobsConfigurationError(SQLITE_MEMORY());
    const Database = (this.Database = driver.sqlite as typeof BetterSqlite3);
    this.db = new Database(file, { timeout: 10 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
  }

  private stmt(text: string): BetterSqlite3.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /** Run `fn` in an immediate transaction, retrying asynchronously while the database is locked. */
  private async write<T>(fn: () => T): Promise<T> {
    const tx = this.db.transaction(fn);
    const deadline = Date.now() + BUSY_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return tx.immediate();
      } catch (error: any) {
        if (!String(error?.code).startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error;
        await sleep(Math.min(50, 1 + attempt * 2) * (0.5 + Math.random()));
      }
    }
  }

  async insert(jobs: NewJob[], manager?: EntityManager): Promise<ManagedJobEntity[]> {
    const params = (j: NewJob) => [
      j.jobId,
      j.type,
      j.queue,
      j.priority,
      j.payload,
      j.ownerUserId,
      j.ownerTenantId,
      j.triggeredByUserId,
      j.maxAttempts,
      j.idempotent ? 1 : 0,
      j.availableAt ? utcText(j.availableAt) : null,
      j.delayMs,
    ];
    if (manager) {
      const rows: ManagedJobEntity[] = [];
      for (const j of jobs) rows.push(...((await manager.query(sql.INSERT_JOB, params(j))) as any[]).map((row) => insertedJob(j, row)));
      return rows;
    }
    const insert = this.stmt(sql.INSERT_JOB);
    return this.write(() => jobs.map((j) => insertedJob(j, insert.get(...params(j)) as any)));
  }

  async find(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const values: unknown[] = [jobId];
    const where = sql.scopeWhere(scope, values);
    const row = this.stmt(sql.FIND_JOB + where).get(...values);
    return row ? toJob(row as any) : null;
  }

  async list(filter: ListFilter): Promise<{ rows: ManagedJobEntity[]; total: number }> {
    const { where, values } = sql.listJobs(filter);
    const rows = this.stmt(`SELECT * FROM managed_jobs ${where} ORDER BY job_id DESC LIMIT ? OFFSET ?`).all(...values, filter.limit, filter.offset);
    const { total } = this.stmt(`SELECT count(*) AS total FROM managed_jobs ${where}`).get(...values) as any;
    return { rows: rows.map((r) => toJob(r as any)), total: Number(total) };
  }

  async claim(claim: ClaimRequest): Promise<ManagedJobEntity[]> {
    return (await this.write(() => this.claimNow(claim))).map(toJob).sort(byPriorityThenAge);
  }

  /** Inside a write transaction. */
  private claimNow(c: ClaimRequest): any[] {
    const now = Date.now();
    return this.stmt(sql.CLAIM_JOBS).all({
      workerId: c.workerId,
      leaseUntil: utcText(new Date(now + c.leaseMs)),
      now: utcText(new Date(now)),
      queue: c.queue,
      types: JSON.stringify(c.types),
      limit: c.limit,
    }) as any[];
  }

  /** Inside a write transaction. */
  private completeNow(runs: Completion[], workerId: string): CompletedRun[] {
    const complete = this.stmt(sql.COMPLETE_JOB);
    const ledger = this.stmt(sql.INSERT_ATTEMPT);
    const done: CompletedRun[] = [];
    const now = utcText(new Date());
    for (const r of runs) {
      const row = complete.get({ result: r.result, progress: r.progress, message: r.message, jobId: r.jobId, fence: r.fence, now }) as any;
      if (!row) continue;
      ledger.run(r.jobId, r.fence, row.attempts, workerId, row.started_at, row.finished_at, 'completed', null);
      done.push({ jobId: r.jobId, finishedAt: toDate(row.finished_at)! });
    }
    return done;
  }

  /** Records the end of a run whose job row `row` was just updated (its `updated_at` is the moment). */
  private ledgerNow(row: any, attempt: number, workerId: string, outcome: string, error: string | null = null): void {
    this.stmt(sql.INSERT_ATTEMPT).run(row.job_id, row.fence, attempt, workerId, row.started_at, row.updated_at, outcome, error);
  }

  async renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]> {
    const renew = this.stmt(sql.RENEW_LEASE);
    return this.write(() => runs.filter((r) => renew.run(leaseMs, r.jobId, r.fence, workerId).changes > 0));
  }

  leaseRenewal(run: RunRef, workerId: string, leaseMs: number): LeaseRenewalTarget {
    return {
      driver: 'better-sqlite3',
      driverModule: this.Database,
      connection: { file: this.db.name },
      // The parameters of `renewLeases` above, for one run.
      statement: { text: sql.RENEW_LEASE, values: [leaseMs, run.jobId, run.fence, workerId] },
      batch: false,
    };
  }

  async complete(runs: Completion[], workerId: string): Promise<CompletedRun[]> {
    return this.write(() => this.completeNow(runs, workerId));
  }

  async completeAndClaim(runs: Completion[], claim: ClaimRequest): Promise<{ completed: CompletedRun[]; claimed: ManagedJobEntity[] }> {
    const { completed, rows } = await this.write(() => ({ completed: this.completeNow(runs, claim.workerId), rows: this.claimNow(claim) }));
    return { completed, claimed: rows.map(toJob).sort(byPriorityThenAge) };
  }

  async fail(run: Failure, workerId: string): Promise<ManagedJobEntity | null> {
    const retry = run.retryInSeconds !== null;
    const row = await this.write(() => {
      const updated = this.stmt(sql.FAIL_JOB).get({
        status: retry ? 'pending' : 'failed',
        reason: run.reason,
        progress: run.progress,
        message: run.message,
        delayMs: (run.retryInSeconds ?? 0) * 1000,
        jobId: run.jobId,
        fence: run.fence,
      }) as any;
      if (updated) this.ledgerNow(updated, updated.attempts, workerId, retry && run.outcome === 'failed' ? 'retrying' : run.outcome, run.reason);
      return updated;
    });
    return row ? toJob(row) : null;
  }

  async release(runs: RunRef[], workerId: string): Promise<ManagedJobEntity[]> {
    const release = this.stmt(sql.RELEASE_JOB);
    return this.write(() =>
      runs.flatMap((r) => {
        const row = release.get(r.jobId, r.fence) as any;
        if (!row) return [];
        // The release gave the try back: the run was attempt `attempts + 1`.
        this.ledgerNow(row, row.attempts + 1, workerId, 'released');
        return [toJob(row)];
      }),
    );
  }

  async updateProgress(run: RunRef, percent: number, message: string | null): Promise<ManagedJobEntity | null> {
    const row = await this.write(() => this.stmt(sql.UPDATE_PROGRESS).get(percent, message, run.jobId, run.fence));
    return row ? toJob(row as any) : null;
  }

  async saveState(run: RunRef, state: string): Promise<boolean> {
    return this.write(() => this.stmt(sql.SAVE_STATE).run(state, run.jobId, run.fence).changes > 0);
  }

  async loadSteps(jobId: string): Promise<Map<string, unknown>> {
    const rows = this.stmt(sql.LOAD_STEPS).all(jobId) as any[];
    return new Map(rows.map((r) => [r.name, r.result === null ? null : JSON.parse(r.result)]));
  }

  async saveStep(run: RunRef, name: string, result: string | null): Promise<boolean> {
    return this.write(() => this.stmt(sql.SAVE_STEP).run(name, result, run.jobId, run.fence).changes > 0);
  }

  async stop(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const values: unknown[] = [jobId];
    const where = sql.scopeWhere(scope, values);
    const row = await this.write(() => {
      const old = this.stmt(sql.stoppableJob(where)).get(...values) as any;
      if (!old) return undefined;
      const stopped = this.stmt(sql.STOP_JOB).get(old.job_id, old.fence) as any;
      if (stopped && old.status === 'running') this.ledgerNow({ ...old, updated_at: stopped.updated_at }, old.attempts, old.lease_owner ?? '?', 'stopped');
      return stopped;
    });
    return row ? toJob(row) : null;
  }

  async retry(jobId: string, tries: number, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const values: unknown[] = [tries, jobId];
    const where = sql.scopeWhere(scope, values);
    const row = await this.write(() => this.stmt(sql.retryJob(where)).get(...values));
    return row ? toJob(row as any) : null;
  }

  async reap(maxLostRuns: number, lostReason: string): Promise<ReapResult> {
    return this.write(() => {
      const result: ReapResult = { requeued: [], failed: [] };
      for (const dead of this.stmt(sql.EXPIRED_RUNS).all(maxLostRuns) as any[]) {
        const row = (
          dead.requeue
            ? this.stmt(sql.REQUEUE_LOST).get(dead.job_id, dead.fence)
            : this.stmt(sql.FAIL_LOST).get(lostReason, dead.job_id, dead.fence)
        ) as any;
        if (!row) continue;
        this.ledgerNow({ ...dead, updated_at: row.updated_at }, dead.attempts, dead.lease_owner ?? '?', 'lost');
        (dead.requeue ? result.requeued : result.failed).push(toJob(row));
      }
      return result;
    });
  }

  async addFile(run: RunRef, file: NewFile): Promise<ManagedJobFileEntity | null> {
    const row = await this.write(() =>
      this.stmt(sql.INSERT_FILE).get(
        file.jobFileId,
        file.filename,
        file.path,
        file.mimeType,
        file.sizeBytes,
        file.expiresAt ? utcText(file.expiresAt) : null,
        file.expiryDays,
        run.jobId,
        run.fence,
      ),
    );
    return row ? toFile(row as any) : null;
  }

  async listFiles(jobId: string, includeExpired = false): Promise<ManagedJobFileEntity[]> {
    return (this.stmt(includeExpired ? sql.LIST_ALL_FILES : sql.LIST_FILES).all(jobId) as any[]).map(toFile);
  }

  async findFile(jobId: string, fileId: string): Promise<ManagedJobFileEntity | null> {
    const row = this.stmt(sql.FIND_FILE).get(jobId, fileId);
    return row ? toFile(row as any) : null;
  }

  async expiredFiles(limit: number): Promise<ManagedJobFileEntity[]> {
    return (this.stmt(sql.EXPIRED_FILES).all(limit) as any[]).map(toFile);
  }

  async markFilesDeleted(fileIds: string[]): Promise<number> {
    const mark = this.stmt(sql.MARK_FILE_DELETED);
    return this.write(() => fileIds.reduce((n, id) => n + mark.run(id).changes, 0));
  }

  async prunableJobs(olderThanDays: number, limit: number): Promise<string[]> {
    return (this.stmt(sql.PRUNABLE_JOBS).all(olderThanDays, limit) as any[]).map((r) => r.job_id);
  }

  async filesOfJobs(jobIds: string[]): Promise<ManagedJobFileEntity[]> {
    const files = this.stmt(sql.FILES_OF_JOB);
    return jobIds.flatMap((id) => (files.all(id) as any[]).map(toFile));
  }

  async pruneFinished(jobIds: string[], olderThanDays: number): Promise<number> {
    const prune = this.stmt(sql.PRUNE_FINISHED);
    // The ledger has no foreign key (a lookup per run on the hot path): its rows go with their job here.
    const ledger = this.stmt(sql.DELETE_ATTEMPTS);
    return this.write(() =>
      jobIds.reduce((n, id) => {
        if (!prune.run(id, olderThanDays).changes) return n;
        ledger.run(id);
        return n + 1;
      }, 0),
    );
  }

  /** SQLite is single-host: a lock per database file shared by every app of this process. */
  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const lockKey = `${this.db.name}\0${key}`;
    if (heldLocks.has(lockKey)) return { acquired: false };
    heldLocks.add(lockKey);
    try {
      return { acquired: true, value: await fn() };
    } finally {
      heldLocks.delete(lockKey);
    }
  }

  /**
   * SQLite has no NOTIFY. Instead, `PRAGMA data_version` (which changes when another connection,
   * in this process or another, commits to the file) is read every `DATA_VERSION_CHECK_MS`: a
   * microsecond read that does not touch the tables. A change wakes the worker, so a job
   * dispatched by another process (or inside a caller's TypeORM transaction) starts within a few
   * milliseconds of its commit instead of waiting for the poll.
   */
  async listen(onNotify: (payload: string) => void): Promise<void> {
    let version = this.db.pragma('data_version', { simple: true });
    this.versionTimer = setInterval(() => {
      if (!this.db.open) return;
      const now = this.db.pragma('data_version', { simple: true });
      if (now !== version) {
        version = now;
        onNotify('d:');
      }
    }, DATA_VERSION_CHECK_MS);
    this.versionTimer.unref();
  }

  /** SQLite has no cross-process channel: events are delivered in-process only. */
  async publishEvents(): Promise<void> {}

  async listenEvents(): Promise<void> {}

  async hasEventListeners(): Promise<boolean> {
    return false;
  }

  async warmUp(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.versionTimer);
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}
