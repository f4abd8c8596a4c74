import type { EntityManager } from 'typeorm';
import type { ManagedJobEntity } from '../../entities/managed-job.entity.js';
import type {
  ClaimRequest,
  LimitedClaim,
  LimitedClaimRequest,
  CompletedRun,
  Completion,
  Failure,
  ListFilter,
  NewJob,
  QueueStore,
  ReapResult,
  LeaseRenewalTarget,
  RunRef,
  ScopeFilter,
} from '../job-store.interface.js';
import { byPriorityThenAge, insertedJob, toDate, toJob, utcText } from '../row-mapper.js';
import type { SqliteConnection } from './sqlite.connection.js';
import { claimJobs, renewLease, renewOwnedLeases } from './claim.sql.js';
import { disableStop, findJob, insertJob, keepStoppedResult, loadSteps, retryJob, saveState, saveStep, updateProgress } from './jobs.sql.js';
import { keepingEndedCounts } from './ended-counts.js';
import {
  completeJob,
  completedAttempt,
  endLostRun,
  expiredRuns,
  failJob,
  failedAttempt,
  lostAttempt,
  releaseJob,
  releasedAttempt,
  stopJob,
  stoppableJob,
  stoppedAttempt,
} from './run-end.sql.js';
import { countActiveTriggered, listJobs } from './scope.sql.js';
import { claimPicked, ensureKey, ensureTokens, insertKeyedJob, lockKeys, markServed, nextToken, pickJobs, takeTokens, uniqueHolder } from './queue-control.sql.js';
import { runLimitedClaimSync, type LimitedClaimResult } from '../limited-claim.js';
import { UniqueKeyHeldError } from '../../errors/managed-jobs.errors.js';

/**
 * How often a worker's lease keeper thread checkpoints the write-ahead log (see
 * \`SqliteConnection.autoCheckpoint\`). Each checkpoint still slows the commits beside it a little
 * (it writes and syncs the database file): measured (bench latencyIn/latencyX, SQLite, 500 jobs 5 ms
 * apart, 3 alternated runs, medians, ms), loop's own checkpoints → every 100 / 300 / 1,000 ms:
 * in-process p95 0.51 → 0.59 / 0.54 / 0.51, p99 1.93 → 0.89 / 0.68 / 0.72; cross-process p95
 * 0.81 → 0.96 / 0.94 / 0.87. Longer periods let the log grow further between two (3,000 one-by-one
 * dispatches: 7.4 MB at 100 ms and at 250 ms; test/core/lease-keeper.spec.ts allows 24 MB).
 */
const WAL_CHECKPOINT_MS = 250;

const limitedClaim = ({ rows, retryAt }: LimitedClaimResult): LimitedClaim => ({ jobs: rows.map(toJob).sort(byPriorityThenAge), retryAt: toDate(retryAt) });

/**
 * The queue on SQLite: each write is one short immediate transaction on the store's connection.
 * Wake-ups need no message: other processes notice the commit (see `SqliteNotifier`).
 */
export class SqliteQueueStore implements QueueStore {
  constructor(private readonly db: SqliteConnection) {}

  async insert(jobs: NewJob[], manager?: EntityManager): Promise<ManagedJobEntity[]> {
    if (jobs.some((j) => j.keys)) return this.insertKeyed(jobs, manager);
    if (manager) {
      const rows: ManagedJobEntity[] = [];
      for (const j of jobs) {
        const q = insertJob(j);
        rows.push(...((await manager.query(q.text, q.values)) as any[]).map((row) => insertedJob(j, row)));
      }
      return rows;
    }
    return this.db.write(() => jobs.map((j) => insertedJob(j, this.db.get(insertJob(j)))));
  }

  /**
   * Jobs with keys, in one transaction, a row at a time: a unique job whose key is held is not
   * written, and its record is the holder's (read in the same transaction: the holder cannot
   * finish in between; a row earlier in the same call can be the holder). A key's row and tokens
   * are ensured once per call.
   */
  private async insertKeyed(jobs: NewJob[], manager?: EntityManager): Promise<ManagedJobEntity[]> {
    if (manager) {
      const saved: ManagedJobEntity[] = [];
      for (const j of jobs) saved.push(await this.insertKeyedWith(manager, j)); // the caller's transaction, one statement at a time
      return saved;
    }
    return this.db.write(() => {
      const ensured = new Set<string>();
      return jobs.map((j) => {
        const k = j.keys!;
        const groupKey = k.concurrencyKey ?? k.rateKey;
        const seen = `${j.type}\0${groupKey}\0${k.rateKey}\0${k.rateSlots}`;
        if (groupKey !== null && !ensured.has(seen)) {
          ensured.add(seen);
          this.db.run(ensureKey(j.type, groupKey));
          if (k.rateKey !== null) this.db.run(ensureTokens(j.type, k.rateKey, k.rateSlots));
        }
        const row = this.db.get(insertKeyedJob(j));
        return row ? insertedJob(j, row) : toJob(this.db.get(uniqueHolder(j.type, k.uniqueKey!)));
      });
    });
  }

  private async insertKeyedWith(manager: EntityManager, j: NewJob): Promise<ManagedJobEntity> {
    const k = j.keys!;
    const run = async (q: { text: string; values: unknown[] }): Promise<any[]> => {
      const r = await manager.query(q.text, q.values);
      return Array.isArray(r) ? r : [];
    };
    const groupKey = k.concurrencyKey ?? k.rateKey;
    if (groupKey !== null) await run(ensureKey(j.type, groupKey));
    if (k.rateKey !== null) await run(ensureTokens(j.type, k.rateKey, k.rateSlots));
    const [row] = await run(insertKeyedJob(j));
    if (row) return insertedJob(j, row);
    return toJob((await run(uniqueHolder(j.type, k.uniqueKey!)))[0]);
  }

  async claimLimited(c: LimitedClaimRequest): Promise<LimitedClaim> {
    return limitedClaim(await this.db.write(() => this.claimLimitedNow(c)));
  }

  /** One commit for both: a worker of limited jobs ends a batch and claims the next one (bench drain50keys: two commits a batch were an eighth of its time). */
  async completeAndClaimLimited(runs: Completion[], c: LimitedClaimRequest): Promise<{ completed: CompletedRun[]; claimed: LimitedClaim }> {
    const { completed, result } = await this.db.write(() => ({ completed: this.completeNow(runs, c.workerId), result: this.claimLimitedNow(c) }));
    return { completed, claimed: limitedClaim(result) };
  }

  /** Inside a write transaction. */
  private claimLimitedNow(c: LimitedClaimRequest): LimitedClaimResult {
    const nowMs = Date.now();
    const now = utcText(new Date(nowMs));
    return runLimitedClaimSync(c, (step) => {
      switch (step.op) {
        case 'lockKeys':
          return this.db.all(lockKeys(c, step.column, step.count, now)).map((r) => r.key_name);
        case 'pick':
          return this.db.all(pickJobs(c, step.column, step.keys, now));
        case 'takeTokens':
          return this.db.run(takeTokens(c, step.rateKey, step.count, nowMs));
        case 'nextToken':
          return this.db.get(nextToken(c, step.rateKeys))?.at ?? null;
        case 'claim':
          this.db.run(markServed(c, step.keys, now));
          return this.db.all(claimPicked(c, step.jobIds, nowMs));
      }
    });
  }

  async find(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const row = this.db.get(findJob(jobId, scope));
    return row ? toJob(row) : null;
  }

  async list(filter: ListFilter): Promise<{ rows: ManagedJobEntity[]; total: number }> {
    const q = listJobs(filter);
    const rows = this.db.all(q.rows);
    const { total } = this.db.get(q.count);
    return { rows: rows.map(toJob), total: Number(total) };
  }

  async countActiveTriggered(owner: ScopeFilter & { ownerUserId: string }): Promise<number> {
    return Number(this.db.get(countActiveTriggered(owner)).total);
  }

  async claim(claim: ClaimRequest): Promise<ManagedJobEntity[]> {
    return (await this.db.write(() => this.db.all(claimJobs(claim, Date.now())))).map(toJob).sort(byPriorityThenAge);
  }

  /** Inside a write transaction. */
  private completeNow(runs: Completion[], workerId: string): CompletedRun[] {
    const done: CompletedRun[] = [];
    const now = utcText(new Date());
    for (const r of runs) {
      const row = this.db.get(completeJob(r, now));
      if (!row) continue;
      this.db.run(completedAttempt(r, row, workerId));
      done.push({ jobId: r.jobId, finishedAt: toDate(row.finished_at)! });
    }
    return done;
  }

  async renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]> {
    return this.db.write(() => runs.filter((r) => this.db.run(renewLease(r, workerId, leaseMs)) > 0));
  }

  leaseRenewal(workerId: string, leaseMs: number): LeaseRenewalTarget {
    return {
      driver: 'better-sqlite3',
      driverModule: this.db.Database,
      connection: { file: this.db.db.name },
      statement: renewOwnedLeases(workerId, leaseMs),
      walCheckpoint: { everyMs: WAL_CHECKPOINT_MS, onThread: (taken) => this.db.autoCheckpoint(!taken) },
    };
  }

  async complete(runs: Completion[], workerId: string): Promise<CompletedRun[]> {
    return this.db.write(() => this.completeNow(runs, workerId));
  }

  async completeAndClaim(runs: Completion[], claim: ClaimRequest): Promise<{ completed: CompletedRun[]; claimed: ManagedJobEntity[] }> {
    const { completed, rows } = await this.db.write(() => ({
      completed: this.completeNow(runs, claim.workerId),
      rows: this.db.all(claimJobs(claim, Date.now())),
    }));
    return { completed, claimed: rows.map(toJob).sort(byPriorityThenAge) };
  }

  async fail(run: Failure, workerId: string): Promise<ManagedJobEntity | null> {
    const row = await this.db.write(() => {
      const updated = this.db.get(failJob(run));
      if (updated) this.db.run(failedAttempt(run, updated, workerId));
      return updated;
    });
    return row ? toJob(row) : null;
  }

  async release(runs: RunRef[], workerId: string, delayMs = 0): Promise<ManagedJobEntity[]> {
    return this.db.write(() =>
      runs.flatMap((r) => {
        const row = this.db.get(releaseJob(r, delayMs));
        if (!row) return [];
        this.db.run(releasedAttempt(row, workerId));
        return [toJob(row)];
      }),
    );
  }

  async disableStop(run: RunRef): Promise<boolean> {
    return this.db.write(() => this.db.run(disableStop(run)) > 0);
  }

  async updateProgress(run: RunRef, percent: number, message: string | null): Promise<ManagedJobEntity | null> {
    const row = await this.db.write(() => this.db.get(updateProgress(run, percent, message)));
    return row ? toJob(row) : null;
  }

  async saveState(run: RunRef, state: string): Promise<boolean> {
    return this.db.write(() => this.db.run(saveState(run, state)) > 0);
  }

  async loadSteps(jobId: string): Promise<Map<string, unknown>> {
    const rows = this.db.all(loadSteps(jobId));
    return new Map(rows.map((r) => [r.name, r.result === null ? null : JSON.parse(r.result)]));
  }

  async saveStep(run: RunRef, name: string, result: string | null): Promise<boolean> {
    return this.db.write(() => this.db.run(saveStep(run, name, result)) > 0);
  }

  async keepStoppedResult(run: RunRef, result: string): Promise<boolean> {
    return this.db.write(() => this.db.run(keepStoppedResult(run, result)) > 0);
  }

  async stop(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const row = await this.db.write(() => {
      const old = this.db.get(stoppableJob(jobId, scope));
      if (!old) return undefined;
      const stopped = this.db.get(stopJob(old));
      const ledger = stopped && stoppedAttempt(old, stopped);
      if (ledger) this.db.run(ledger);
      return stopped;
    });
    return row ? toJob(row) : null;
  }

  async retry(jobId: string, tries: number, scope?: ScopeFilter, retryUntil?: Date | null): Promise<ManagedJobEntity | null> {
    try {
      const row = await this.db.write(() => keepingEndedCounts(this.db, [jobId], () => this.db.get(retryJob(jobId, tries, retryUntil ?? null, scope))));
      return row ? toJob(row) : null;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
      // Another job holds its unique key: nothing changed.
      const job = await this.find(jobId, scope);
      const holder = job?.uniqueKey ? this.db.get(uniqueHolder(job.type, job.uniqueKey)) : undefined;
      throw new UniqueKeyHeldError(jobId, job?.status ?? 'unknown', holder?.job_id ?? null);
    }
  }

  async reap(maxLostRuns: number, lostReason: string): Promise<ReapResult> {
    return this.db.write(() => {
      const result: ReapResult = { requeued: [], failed: [] };
      for (const dead of this.db.all(expiredRuns(maxLostRuns))) {
        const row = this.db.get(endLostRun(dead, lostReason));
        if (!row) continue;
        this.db.run(lostAttempt(dead, row));
        (dead.requeue ? result.requeued : result.failed).push(toJob(row));
      }
      return result;
    });
  }
}
