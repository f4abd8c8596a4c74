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
import { lockClaimable, markClaimed, renewLease, renewOwnedLeases } from './claim.sql.js';
import { dbNow, selectJob } from './common.sql.js';
import { availableAt, disableStop, findJob, insertJobs, keepStoppedResult, loadSteps, retryJob, saveState, saveStep, updateProgress } from './jobs.sql.js';
import type { MysqlConnection, MysqlTransaction } from './mysql.connection.js';
import { bumpWakeups } from './notify.sql.js';
import {
  completeJob,
  completedAttempts,
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
import * as qc from './queue-control.sql.js';
import { keepingEndedCounts } from './ended-counts.js';
import { roundRobin, runLimitedClaim, type PickedJob } from '../limited-claim.js';
import { byUniqueKey } from '../unique-key-order.js';
import { UniqueKeyHeldError } from '../../errors/managed-jobs.errors.js';

/** Whether a holder row (`JOB_COLUMNS`) still holds its unique key (see lib/queue-control/unique-predicate.ts). */
function holdsKey(row: any): boolean {
  if (!row?.job_id) return false;
  const untilFinished = row.unique_until === 'finished';
  if (row.status === 'pending' || row.status === 'waiting') return untilFinished || row.started_at === null;
  return row.status === 'running' && untilFinished;
}

/** ER_DUP_ENTRY: a step recorded by a concurrent save. */
const DUPLICATE_KEY = 1062;

const plusMsText = (now: string, ms: number) => utcText(new Date(Date.parse(`${now.replace(' ', 'T')}Z`) + ms));

/**
 * The queue on MySQL/MariaDB. Writes that must return rows are short transactions (no
 * `UPDATE … RETURNING`); the claim is `FOR UPDATE SKIP LOCKED` then an update of those ids, and
 * complete-and-claim is one transaction. Dispatches need no wake-up message (workers watch the
 * newest job id); release, retry and stop bump the change counter in their transaction.
 */
export class MysqlQueueStore implements QueueStore {
  constructor(private readonly db: MysqlConnection) {}

  async insert(jobs: NewJob[], manager?: EntityManager): Promise<ManagedJobEntity[]> {
    if (!jobs.length) return [];
    if (jobs.some((j) => j.keys)) {
      if (manager) return this.insertKeyed({ query: (q) => this.db.queryWith(manager, q), run: async (q) => this.db.queryWith(manager, q) as any }, jobs);
      return this.db.transaction((tx) => this.insertKeyed(tx, jobs), true);
    }
    const [{ db_now: now }] = await this.db.query(dbNow());
    const q = insertJobs(jobs, now);
    if (manager) await this.db.queryWith(manager, q);
    else await this.db.run(q);
    return jobs.map((j) => insertedJob(j, { created_at: now, available_at: availableAt(j, now) }));
  }

  /**
   * Jobs with keys, in one transaction (ours or the caller's). A unique job first takes its
   * key's hold row (created, or locked until commit: concurrent dispatches of one key queue up
   * here), then reads the holder at its latest version: while it holds the key, nothing is
   * written and its record is returned; otherwise the hold moves to the new job.
   */
  private async insertKeyed(tx: MysqlTransaction, jobs: NewJob[]): Promise<ManagedJobEntity[]> {
    const [{ db_now: now }] = await tx.query(dbNow());
    const saved = new Map<NewJob, ManagedJobEntity>();
    const ensured = new Set<string>();
    // Hold rows locked in one order (see byUniqueKey).
    for (const j of jobs.length > 1 ? [...jobs].sort(byUniqueKey) : jobs) {
      const k = j.keys!;
      if (k.uniqueKey !== null) {
        await tx.query(qc.takeHold(j.type, k.uniqueKey, j.jobId));
        const [{ job_id: holderId }] = await tx.query(qc.holdOf(j.type, k.uniqueKey));
        if (holderId !== j.jobId) {
          const [holder] = await tx.query(qc.lockedJob(holderId));
          if (holdsKey(holder)) {
            saved.set(j, toJob(holder));
            continue;
          }
          await tx.query(qc.moveHold(j.type, k.uniqueKey, j.jobId));
        }
      }
      const groupKey = k.concurrencyKey ?? k.rateKey;
      const seen = `${j.type}\0${groupKey}\0${k.rateKey}\0${k.rateSlots}`;
      if (groupKey !== null && !ensured.has(seen)) {
        ensured.add(seen);
        await tx.query(qc.ensureKey(j.type, groupKey));
        if (k.rateKey !== null && !(await tx.query(qc.hasTokens(j.type, k.rateKey, k.rateSlots))).length) {
          await tx.query(qc.ensureTokens(j.type, k.rateKey, k.rateSlots));
        }
      }
      await tx.query(qc.insertKeyedJob(j, now));
      saved.set(j, insertedJob(j, { created_at: now, available_at: availableAt(j, now) }));
    }
    return jobs.map((j) => saved.get(j)!);
  }

  async claimLimited(c: LimitedClaimRequest): Promise<LimitedClaim> {
    const { rows, retryAt } = await this.db.transaction(
      (tx) => {
        let now: string | null = null;
        const clock = async () => (now ??= (await tx.query(dbNow()))[0].db_now as string);
        return runLimitedClaim(c, async (step) => {
          switch (step.op) {
            case 'lockKeys':
              return (await tx.query(qc.lockKeys(c, step.column, step.count))).map((r) => r.key_name);
            case 'pick': {
              const picks: Array<PickedJob & { priority: number }> = [];
              for (const key of step.keys) {
                const load = Number((await tx.query(qc.keyLoad(c, key)))[0].n);
                const room = c.concurrency ? c.concurrency - load : load;
                if (room > 0) picks.push(...(await tx.query(qc.pickJobs(c, step.column, key, Math.min(room, c.limit)))));
              }
              return roundRobin(picks, step.keys).slice(0, c.limit);
            }
            case 'takeTokens': {
              const at = await clock();
              const slots = (await tx.query(qc.freeTokens(c, step.rateKey, step.count, at))).map((r) => Number(r.slot));
              if (slots.length) await tx.run(qc.useTokens(c, step.rateKey, slots, plusMsText(at, c.rate!.perSeconds * 1000)));
              return slots.length;
            }
            case 'nextToken':
              return (await tx.query(qc.nextToken(c, step.rateKeys)))[0]?.at ?? null;
            case 'claim': {
              await tx.run(qc.markServed(c, step.keys));
              const at = await clock();
              await tx.run(markClaimed(step.jobIds, c.workerId, at, plusMsText(at, c.leaseMs)));
              return tx.query(qc.selectJobs(step.jobIds));
            }
          }
        });
      },
      true,
    );
    return { jobs: rows.map(toJob).sort(byPriorityThenAge), retryAt: toDate(retryAt) };
  }

  async find(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const [row] = await this.db.query(findJob(jobId, scope));
    return row ? toJob(row) : null;
  }

  async list(filter: ListFilter): Promise<{ rows: ManagedJobEntity[]; total: number }> {
    const q = listJobs(filter);
    const [rows, [count]] = await Promise.all([this.db.query(q.rows), this.db.query(q.count)]);
    return { rows: rows.map(toJob), total: Number(count.total) };
  }

  async countActiveTriggered(owner: ScopeFilter & { ownerUserId: string }): Promise<number> {
    const [row] = await this.db.query(countActiveTriggered(owner));
    return Number(row.total);
  }

  /** Inside a READ COMMITTED transaction: lock, then mark. The rows are updated in memory as the UPDATE does. */
  private async claimIn(tx: MysqlTransaction, c: ClaimRequest): Promise<{ rows: any[]; now: string | null }> {
    const rows = await tx.query(lockClaimable(c));
    if (!rows.length) return { rows, now: null };
    const now: string = rows[0].db_now;
    const leaseUntil = plusMsText(now, c.leaseMs);
    await tx.run(markClaimed(rows.map((r) => r.job_id), c.workerId, now, leaseUntil));
    for (const r of rows) {
      r.status = 'running';
      r.attempts = Number(r.attempts) + 1;
      r.fence = Number(r.fence) + 1;
      r.lease_owner = c.workerId;
      r.lease_expires_at = leaseUntil;
      r.started_at = now;
      r.finished_at = null;
      r.updated_at = now;
    }
    return { rows, now };
  }

  /** Inside a transaction; `now`: its clock reading. */
  private async completeIn(tx: MysqlTransaction, runs: Completion[], workerId: string, now: string): Promise<CompletedRun[]> {
    const done: string[] = [];
    for (const r of runs) if ((await tx.run(completeJob(r, now))) > 0) done.push(r.jobId);
    if (!done.length) return [];
    await tx.run(completedAttempts(done, workerId));
    const finishedAt = toDate(now)!;
    return done.map((jobId) => ({ jobId, finishedAt }));
  }

  async claim(claim: ClaimRequest): Promise<ManagedJobEntity[]> {
    const { rows } = await this.db.transaction((tx) => this.claimIn(tx, claim), true);
    return rows.map(toJob).sort(byPriorityThenAge);
  }

  leaseRenewal(workerId: string, leaseMs: number): LeaseRenewalTarget {
    return {
      driver: 'mysql2',
      driverModule: this.db.driverModule,
      connection: this.db.clientOptions(),
      // Scanning the lease index under REPEATABLE READ would gap-lock it against other workers' claims.
      setup: ['SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'],
      statement: renewOwnedLeases(workerId, leaseMs),
    };
  }

  async renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]> {
    if (!runs.length) return [];
    return this.db.transaction(async (tx) => {
      const kept: RunRef[] = [];
      for (const r of runs) if ((await tx.run(renewLease(r, workerId, leaseMs))) > 0) kept.push(r);
      return kept;
    });
  }

  async complete(runs: Completion[], workerId: string): Promise<CompletedRun[]> {
    if (!runs.length) return [];
    return this.db.transaction(async (tx) => {
      const [{ db_now: now }] = await tx.query(dbNow());
      return this.completeIn(tx, runs, workerId, now);
    });
  }

  /** One transaction: the claim first (its rows carry the clock), then the completions. */
  async completeAndClaim(runs: Completion[], claim: ClaimRequest): Promise<{ completed: CompletedRun[]; claimed: ManagedJobEntity[] }> {
    const { completed, rows } = await this.db.transaction(async (tx) => {
      const claimed = await this.claimIn(tx, claim);
      if (!runs.length) return { completed: [], rows: claimed.rows };
      const now = claimed.now ?? (await tx.query(dbNow()))[0].db_now;
      return { completed: await this.completeIn(tx, runs, claim.workerId, now), rows: claimed.rows };
    }, true);
    return { completed, claimed: rows.map(toJob).sort(byPriorityThenAge) };
  }

  async fail(run: Failure, workerId: string): Promise<ManagedJobEntity | null> {
    const row = await this.db.transaction(async (tx) => {
      if (!(await tx.run(failJob(run)))) return undefined;
      await tx.run(failedAttempt(run, workerId));
      return (await tx.query(selectJob(run.jobId)))[0];
    });
    return row ? toJob(row) : null;
  }

  async release(runs: RunRef[], workerId: string, delayMs = 0): Promise<ManagedJobEntity[]> {
    if (!runs.length) return [];
    const rows = await this.db.transaction(async (tx) => {
      const released: any[] = [];
      for (const r of runs) {
        if (!(await tx.run(releaseJob(r, delayMs)))) continue;
        await tx.run(releasedAttempt(r.jobId, workerId));
        released.push((await tx.query(selectJob(r.jobId)))[0]);
      }
      if (released.length) await tx.run(bumpWakeups());
      return released;
    });
    return rows.map(toJob);
  }

  async disableStop(run: RunRef): Promise<boolean> {
    return (await this.db.run(disableStop(run))) > 0;
  }

  async updateProgress(run: RunRef, percent: number, message: string | null): Promise<ManagedJobEntity | null> {
    if (!(await this.db.run(updateProgress(run, percent, message)))) return null;
    const [row] = await this.db.query(selectJob(run.jobId));
    return row ? toJob(row) : null;
  }

  async saveState(run: RunRef, state: string): Promise<boolean> {
    return (await this.db.run(saveState(run, state))) > 0;
  }

  async loadSteps(jobId: string): Promise<Map<string, unknown>> {
    const rows = await this.db.query(loadSteps(jobId));
    return new Map(rows.map((r) => [r.name, r.result === null ? null : JSON.parse(r.result)]));
  }

  async saveStep(run: RunRef, name: string, result: string | null): Promise<boolean> {
    try {
      return (await this.db.run(saveStep(run, name, result))) > 0;
    } catch (error) {
      if ((error as { errno?: number }).errno === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  async keepStoppedResult(run: RunRef, result: string): Promise<boolean> {
    return (await this.db.run(keepStoppedResult(run, result))) > 0;
  }

  async stop(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const row = await this.db.transaction(async (tx) => {
      const [old] = await tx.query(stoppableJob(jobId, scope));
      if (!old || !(await tx.run(stopJob(old)))) return undefined;
      const ledger = stoppedAttempt(old);
      if (ledger) await tx.run(ledger);
      await tx.run(bumpWakeups());
      return (await tx.query(selectJob(jobId)))[0];
    });
    return row ? toJob(row) : null;
  }

  async retry(jobId: string, tries: number, scope?: ScopeFilter, retryUntil?: Date | null): Promise<ManagedJobEntity | null> {
    const row = await this.db.transaction(async (tx) => {
      const [job] = await tx.query(findJob(jobId, scope));
      if (job?.unique_key && (job.status === 'failed' || job.status === 'stopped')) {
        // A retried unique job takes its key back, unless another job holds it now.
        await tx.query(qc.takeHold(job.type, job.unique_key, jobId));
        const [{ job_id: holderId }] = await tx.query(qc.holdOf(job.type, job.unique_key));
        const [holder] = holderId === jobId ? [] : await tx.query(qc.lockedJob(holderId));
        if (holdsKey(holder)) throw new UniqueKeyHeldError(jobId, job.status, holderId);
        await tx.query(qc.moveHold(job.type, job.unique_key, jobId));
      }
      if (!(await keepingEndedCounts(tx, [jobId], () => tx.run(retryJob(jobId, tries, retryUntil ?? null, scope))))) return undefined;
      await tx.run(bumpWakeups());
      return (await tx.query(selectJob(jobId)))[0];
    });
    return row ? toJob(row) : null;
  }

  async reap(maxLostRuns: number, lostReason: string): Promise<ReapResult> {
    return this.db.transaction(async (tx) => {
      const result: ReapResult = { requeued: [], failed: [] };
      for (const dead of await tx.query(expiredRuns(maxLostRuns))) {
        if (!(await tx.run(endLostRun(dead, lostReason)))) continue;
        await tx.run(lostAttempt(dead));
        const job = toJob((await tx.query(selectJob(dead.job_id)))[0]);
        (Number(dead.requeue) ? result.requeued : result.failed).push(job);
      }
      if (result.requeued.length) await tx.run(bumpWakeups());
      return result;
    }, true);
  }
}
