import type { EntityManager } from 'typeorm';
import { NOTIFY_CHANNEL } from '../../managed-jobs.constants.js';
import type { ManagedJobEntity } from '../../entities/managed-job.entity.js';
import { JobStatus } from '../../enums/job-status.enum.js';
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
import { byPriorityThenAge, insertedJob, toDate, toJob } from '../row-mapper.js';
import { ANY_DISPATCH, WAKE_PREFIX, encodeDispatched } from '../wake-message.js';
import type { PostgresConnection } from './postgres.connection.js';
import { claimJobs, renewLeases, renewOwnedLeases } from './claim.sql.js';
import { keepingEndedCounts } from './ended-counts.js';
import { disableStop, findJob, insertJobs, keepStoppedResult, loadSteps, retryJob, saveState, saveStep, updateProgress } from './jobs.sql.js';
import { completeAndClaim, completeJobs, failJob, reapExpired, releaseJobs, stopJob } from './run-end.sql.js';
import { countActiveTriggered, listJobs } from './scope.sql.js';
import { claimKeyed, claimPicked, insertKeyedJobs, lockKeys, nextToken, pickJobs, takeTokens, uniqueHolders } from './queue-control.sql.js';
import { keysToLock, runLimitedClaim } from '../limited-claim.js';
import type { Sql } from './common.sql.js';
import { byUniqueKey } from '../unique-key-order.js';
import { UniqueKeyHeldError } from '../../errors/managed-jobs.errors.js';

/** A claim of a type with a concurrency limit and no rate limit: one statement (`claimKeyed`). */
const keyedOnly = (c: LimitedClaimRequest) => c.concurrency !== null && c.rate === null;

/** A row `{ job_id, finished_at }` of a completion statement, as the worker takes it. */
const completedRun = (row: { job_id: string; finished_at: unknown }): CompletedRun => ({ jobId: row.job_id, finishedAt: toDate(row.finished_at)! });

/** unique_violation */
const UNIQUE_VIOLATION = '23505';
/** A unique job whose holder finished between our insert and our read is inserted again, at most this often. */
const UNIQUE_ATTEMPTS = 5;

/** The queue on PostgreSQL: one statement per method; those that queue work NOTIFY the workers in it. */
export class PostgresQueueStore implements QueueStore {
  constructor(private readonly db: PostgresConnection) {}

  async insert(jobs: NewJob[], manager?: EntityManager, wakeOrigin = ''): Promise<ManagedJobEntity[]> {
    if (jobs.some((j) => j.keys)) return this.insertKeyed(jobs, manager, wakeOrigin);
    const q = insertJobs(jobs, NOTIFY_CHANNEL, encodeDispatched(new Set(jobs.map((j) => j.queue)), wakeOrigin));
    const rows = manager ? await this.db.queryWith(manager, q) : await this.db.query(q);
    const byId = new Map(rows.map((row) => [row.job_id, row]));
    return jobs.map((j) => insertedJob(j, byId.get(j.jobId)));
  }

  /**
   * Jobs with keys: one statement; a unique job whose key is held is not written, and its record
   * is the holder's. A holder that finished before we read it leaves the key free: insert again.
   */
  private async insertKeyed(jobs: NewJob[], manager: EntityManager | undefined, wakeOrigin: string): Promise<ManagedJobEntity[]> {
    const run = (q: { text: string; values: unknown[] }) => (manager ? this.db.queryWith(manager, q) : this.db.query(q));
    const saved = new Map<string, ManagedJobEntity>();
    // Unique keys in one order (see byUniqueKey).
    let todo = jobs.length > 1 ? [...jobs].sort(byUniqueKey) : jobs;
    for (let attempt = 0; todo.length && attempt < UNIQUE_ATTEMPTS; attempt++) {
      const rows = await run(insertKeyedJobs(todo, NOTIFY_CHANNEL, encodeDispatched(new Set(todo.map((j) => j.queue)), wakeOrigin)));
      const byId = new Map(rows.map((row) => [row.job_id, row]));
      const skipped = todo.filter((j) => !byId.has(j.jobId));
      for (const j of todo) if (byId.has(j.jobId)) saved.set(j.jobId, insertedJob(j, byId.get(j.jobId)));
      if (!skipped.length) break;
      const holders = (await run(uniqueHolders(skipped.map((j) => ({ type: j.type, key: j.keys!.uniqueKey! }))))).map(toJob);
      const holderOf = (j: NewJob) => holders.find((h) => h.type === j.type && h.uniqueKey === j.keys!.uniqueKey);
      // Two jobs of one batch with one key: the first is the holder of the second.
      const batchHolder = (j: NewJob) => jobs.find((o) => o !== j && saved.has(o.jobId) && o.type === j.type && o.keys?.uniqueKey === j.keys!.uniqueKey);
      for (const j of skipped) {
        const holder = holderOf(j) ?? (batchHolder(j) && saved.get(batchHolder(j)!.jobId));
        if (holder) saved.set(j.jobId, holder);
      }
      todo = skipped.filter((j) => !saved.has(j.jobId));
    }
    return jobs.map((j) => saved.get(j.jobId)!).filter(Boolean);
  }

  async claimLimited(c: LimitedClaimRequest): Promise<LimitedClaim> {
    if (keyedOnly(c)) return (await this.claimKeyed([], c)).claimed;
    return this.db.transaction((query) => this.claimLimitedIn(query, c));
  }

  /**
   * Finished runs and a limited claim in one commit. A concurrency-keyed type: one statement
   * (`claimKeyed`; bench drain50keys: 6 round trips a batch before). A rate-limited one: one transaction.
   */
  async completeAndClaimLimited(runs: Completion[], c: LimitedClaimRequest): Promise<{ completed: CompletedRun[]; claimed: LimitedClaim }> {
    if (keyedOnly(c)) return this.claimKeyed(runs, c);
    return this.db.transaction(async (query) => {
      const completed = (await query(completeJobs(runs, c.workerId))).map(completedRun);
      return { completed, claimed: await this.claimLimitedIn(query, c) };
    });
  }

  private async claimKeyed(runs: Completion[], c: LimitedClaimRequest): Promise<{ completed: CompletedRun[]; claimed: LimitedClaim }> {
    const completed: CompletedRun[] = [];
    const jobs: ManagedJobEntity[] = [];
    for (const row of await this.db.query(claimKeyed(runs, c, keysToLock(c)))) {
      if (row.status === JobStatus.Completed) completed.push(completedRun(row));
      else jobs.push(toJob(row));
    }
    return { completed, claimed: { jobs, retryAt: null } };
  }

  /** The client-side plan of lib/store/limited-claim.ts, inside the caller's transaction. */
  private async claimLimitedIn(query: (q: Sql) => Promise<any[]>, c: LimitedClaimRequest): Promise<LimitedClaim> {
    const { rows, retryAt } = await runLimitedClaim(c, async (step) => {
      switch (step.op) {
        case 'lockKeys':
          return (await query(lockKeys(c, step.column, step.count))).map((r) => r.key_name);
        case 'pick':
          return query(pickJobs(c, step.column, step.keys));
        case 'takeTokens':
          return (await query(takeTokens(c, step.rateKey, step.count))).length;
        case 'nextToken':
          return (await query(nextToken(c, step.rateKeys)))[0]?.at ?? null;
        case 'claim':
          return query(claimPicked(c, step.jobIds, step.keys));
      }
    });
    return { jobs: rows.map(toJob), retryAt: toDate(retryAt) };
  }

  async find(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const [row] = await this.db.query(findJob(jobId, scope));
    return row ? toJob(row) : null;
  }

  async list(filter: ListFilter): Promise<{ rows: ManagedJobEntity[]; total: number }> {
    const q = listJobs(filter);
    const [rows, [count]] = await Promise.all([this.db.query(q.rows), this.db.query(q.count)]);
    return { rows: rows.map(toJob), total: count.total };
  }

  async countActiveTriggered(owner: ScopeFilter & { ownerUserId: string }): Promise<number> {
    const [row] = await this.db.query(countActiveTriggered(owner));
    return row.total;
  }

  async claim(claim: ClaimRequest): Promise<ManagedJobEntity[]> {
    return (await this.db.query(claimJobs(claim))).map(toJob);
  }

  leaseRenewal(workerId: string, leaseMs: number): LeaseRenewalTarget {
    return {
      driver: 'pg',
      driverModule: this.db.pg,
      connection: this.db.clientOptions('nestjs-managed-jobs lease keeper') as Record<string, unknown>,
      statement: renewOwnedLeases(workerId, leaseMs),
    };
  }

  async renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]> {
    const rows = await this.db.query(renewLeases(runs, workerId, leaseMs));
    return rows.map((r) => ({ jobId: r.job_id, fence: Number(r.fence) }));
  }

  async complete(runs: Completion[], workerId: string): Promise<CompletedRun[]> {
    return (await this.db.query(completeJobs(runs, workerId))).map(completedRun);
  }

  async completeAndClaim(runs: Completion[], c: ClaimRequest): Promise<{ completed: CompletedRun[]; claimed: ManagedJobEntity[] }> {
    const rows = await this.db.query(completeAndClaim(runs, c));
    const completed: CompletedRun[] = [];
    const claimed: ManagedJobEntity[] = [];
    for (const row of rows) {
      if (row.done_job_id) completed.push({ jobId: row.done_job_id, finishedAt: toDate(row.done_finished_at)! });
      else claimed.push(toJob(row));
    }
    claimed.sort(byPriorityThenAge);
    return { completed, claimed };
  }

  async fail(run: Failure, workerId: string): Promise<ManagedJobEntity | null> {
    const [row] = await this.db.query(failJob(run, workerId));
    return row ? toJob(row) : null;
  }

  async release(runs: RunRef[], workerId: string, delayMs = 0): Promise<ManagedJobEntity[]> {
    return (await this.db.query(releaseJobs(runs, workerId, NOTIFY_CHANNEL, ANY_DISPATCH, delayMs))).map(toJob);
  }

  async disableStop(run: RunRef): Promise<boolean> {
    return (await this.db.rowCount(disableStop(run))) > 0;
  }

  async updateProgress(run: RunRef, percent: number, message: string | null): Promise<ManagedJobEntity | null> {
    const [row] = await this.db.query(updateProgress(run, percent, message));
    return row ? toJob(row) : null;
  }

  async saveState(run: RunRef, state: string): Promise<boolean> {
    return (await this.db.rowCount(saveState(run, state))) > 0;
  }

  async loadSteps(jobId: string): Promise<Map<string, unknown>> {
    const rows = await this.db.query(loadSteps(jobId));
    return new Map(rows.map((r) => [r.name, r.result === null ? null : JSON.parse(r.result)]));
  }

  async saveStep(run: RunRef, name: string, result: string | null): Promise<boolean> {
    return (await this.db.rowCount(saveStep(run, name, result))) > 0;
  }

  async keepStoppedResult(run: RunRef, result: string): Promise<boolean> {
    return (await this.db.rowCount(keepStoppedResult(run, result))) > 0;
  }

  async stop(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const [row] = await this.db.query(stopJob(jobId, scope, NOTIFY_CHANNEL, WAKE_PREFIX.stopRequested));
    return row ? toJob(row) : null;
  }

  async retry(jobId: string, tries: number, scope?: ScopeFilter, retryUntil?: Date | null): Promise<ManagedJobEntity | null> {
    try {
      const retry = retryJob(jobId, tries, retryUntil ?? null, scope, NOTIFY_CHANNEL, WAKE_PREFIX.dispatched);
      const [row] = await this.db.transaction((query) => keepingEndedCounts(query, [jobId], () => query(retry)));
      return row ? toJob(row) : null;
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      // Another job holds its unique key: nothing changed.
      const job = await this.find(jobId, scope);
      const [holder] = job?.uniqueKey ? await this.db.query(uniqueHolders([{ type: job.type, key: job.uniqueKey }])) : [];
      throw new UniqueKeyHeldError(jobId, job?.status ?? 'unknown', holder?.job_id ?? null);
    }
  }

  async reap(maxLostRuns: number, lostReason: string): Promise<ReapResult> {
    const jobs = (await this.db.query(reapExpired(maxLostRuns, lostReason))).map(toJob);
    return {
      requeued: jobs.filter((j) => j.status === JobStatus.Pending),
      failed: jobs.filter((j) => j.status === JobStatus.Failed),
    };
  }
}
