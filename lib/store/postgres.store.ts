import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type pg from 'pg';
import { EVENTS_CHANNEL, NOTIFY_CHANNEL } from '../managed-jobs.constants.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
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
import { byPriorityThenAge, insertedJob, toDate, toFile, toJob } from './row-mapper.js';
import * as sql from './sql/postgres.sql.js';
import { JobStatus } from '../enums/job-status.enum.js';

/** `timestamp` (OID 1114) values are UTC; parse them as such whatever the process time zone. */
const TIMESTAMP_OID = 1114;
/**
 * `jsonb` (OID 3802) arrives as text and is parsed once by the row mapper, as on SQLite: parsed
 * here too, a job result that is a JSON string (`"done"`) was parsed twice and broke every read.
 */
const JSONB_OID = 3802;

/** Pooled connections opened at start (see `warmUp`). */
const WARM_CONNECTIONS = 4;

/** Distinct statement texts prepared per connection at most (list filters make a few shapes each). */
const MAX_PREPARED = 200;

/**
 * Event listeners (gateways) hold this shared advisory lock on their LISTEN connection, so that
 * publishers can tell whether anyone listens (`pg_locks`) before relaying. Two int4 keys: 'nmj\0', 1.
 */
const LISTENER_LOCK = [0x6e6d6a00, 1] as const;

/**
 * PostgreSQL store. Queries go straight to the TypeORM data source's `pg` pool (no query runner,
 * no logging layer: this is the hot path). A dedicated client LISTENs for wake-ups and reconnects
 * with jittered backoff; losing it only costs latency, because workers keep polling.
 */
export class PostgresJobStore implements JobStore {
  readonly dialect = 'postgres' as const;
  private readonly logger = new Logger('ManagedJobs');
  private readonly types: pg.CustomTypesConfig;
  /** Statement text → prepared statement name ('' = send unnamed). */
  private readonly statementNames = new Map<string, string>();
  /** LISTEN connections by channel (wake-ups, job events). */
  private readonly listeners = new Map<string, pg.Client>();
  private readonly listenTimers = new Set<NodeJS.Timeout>();
  /** Backend pids of this store's LISTEN connections (their locks are not "someone else listening"). */
  private readonly ownListenerPids = new Set<number>();
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly prepare = true,
  ) {
    const pgTypes = (this.driver.postgres as typeof pg).types;
    this.types = {
      getTypeParser: ((oid: number, format?: any) =>
        oid === TIMESTAMP_OID || oid === JSONB_OID ? (v: string) => v : pgTypes.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    };
  }

  private get driver(): any {
    return this.dataSource.driver as any;
  }

  /**
   * Statements are prepared once per connection (named by a hash of their text): the hot path's
   * CTEs took longer to plan than to run. `preparedStatements: false` sends them unnamed (for
   * PgBouncer before 1.21 in transaction mode).
   */
  private async query(q: sql.Sql): Promise<any[]> {
    const pool: pg.Pool = this.driver.master;
    const name = this.statementName(q.text);
    try {
      return (await pool.query({ name, text: q.text, values: q.values, types: this.types })).rows;
    } catch (error) {
      // 0A000 "cached plan must not change result type": the table changed under a prepared
      // statement (ALTER TABLE at run time). Run this text unprepared from now on.
      if (!name || (error as { code?: string }).code !== '0A000') throw error;
      this.statementNames.set(q.text, '');
      return (await pool.query({ text: q.text, values: q.values, types: this.types })).rows;
    }
  }

  private statementName(text: string): string | undefined {
    if (!this.prepare) return undefined;
    let name = this.statementNames.get(text);
    if (name === undefined) {
      // Texts are few (one per statement shape); past the cap, rare shapes simply go unnamed.
      name = this.statementNames.size < MAX_PREPARED ? `nmj_${createHash('sha1').update(text).digest('hex').slice(0, 20)}` : '';
      this.statementNames.set(text, name);
    }
    return name || undefined;
  }

  async insert(jobs: NewJob[], manager?: EntityManager, wakeOrigin = ''): Promise<ManagedJobEntity[]> {
    const queues = [...new Set(jobs.map((j) => j.queue))].join(',');
    const q = sql.insertJobs(jobs, NOTIFY_CHANNEL, `d:${queues}|${wakeOrigin}`);
    const rows: any[] = manager ? await manager.query(q.text, q.values) : await this.query(q);
    const byId = new Map(rows.map((row) => [row.job_id, row]));
    return jobs.map((j) => insertedJob(j, byId.get(j.jobId)));
  }

  async find(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const [row] = await this.query(sql.findJob(jobId, scope));
    return row ? toJob(row) : null;
  }

  async list(filter: ListFilter): Promise<{ rows: ManagedJobEntity[]; total: number }> {
    const q = sql.listJobs(filter);
    const [rows, [count]] = await Promise.all([this.query(q.rows), this.query(q.count)]);
    return { rows: rows.map(toJob), total: count.total };
  }

  async claim(claim: ClaimRequest): Promise<ManagedJobEntity[]> {
    return (await this.query(sql.claimJobs(claim))).map(toJob);
  }

  async renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]> {
    const rows = await this.query(sql.renewLeases(runs, workerId, leaseMs));
    return rows.map((r) => ({ jobId: r.job_id, fence: Number(r.fence) }));
  }

  leaseRenewal(run: RunRef, workerId: string, leaseMs: number): LeaseRenewalTarget {
    return {
      driver: 'pg',
      driverModule: this.driver.postgres,
      connection: this.connectionOptions('nestjs-managed-jobs lease keeper') as Record<string, unknown>,
      statement: sql.renewLeases([run], workerId, leaseMs),
      batch: true,
    };
  }

  async complete(runs: Completion[], workerId: string): Promise<CompletedRun[]> {
    return (await this.query(sql.completeJobs(runs, workerId))).map((r) => ({ jobId: r.job_id, finishedAt: toDate(r.finished_at)! }));
  }

  async completeAndClaim(runs: Completion[], c: ClaimRequest): Promise<{ completed: CompletedRun[]; claimed: ManagedJobEntity[] }> {
    const rows = await this.query(sql.completeAndClaim(runs, c));
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
    const [row] = await this.query(sql.failJob(run, workerId));
    return row ? toJob(row) : null;
  }

  async release(runs: RunRef[], workerId: string): Promise<ManagedJobEntity[]> {
    return (await this.query(sql.releaseJobs(runs, workerId, NOTIFY_CHANNEL))).map(toJob);
  }

  async updateProgress(run: RunRef, percent: number, message: string | null): Promise<ManagedJobEntity | null> {
    const [row] = await this.query(sql.updateProgress(run, percent, message));
    return row ? toJob(row) : null;
  }

  async saveState(run: RunRef, state: string): Promise<boolean> {
    const pool: pg.Pool = this.driver.master;
    const q = sql.saveState(run, state);
    return ((await pool.query(q.text, q.values)).rowCount ?? 0) > 0;
  }

  async loadSteps(jobId: string): Promise<Map<string, unknown>> {
    const rows = await this.query(sql.loadSteps(jobId));
    return new Map(rows.map((r) => [r.name, r.result === null ? null : JSON.parse(r.result)]));
  }

  async saveStep(run: RunRef, name: string, result: string | null): Promise<boolean> {
    const pool: pg.Pool = this.driver.master;
    const q = sql.saveStep(run, name, result);
    return ((await pool.query(q.text, q.values)).rowCount ?? 0) > 0;
  }

  async stop(jobId: string, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const [row] = await this.query(sql.stopJob(jobId, scope, NOTIFY_CHANNEL));
    return row ? toJob(row) : null;
  }

  async retry(jobId: string, tries: number, scope?: ScopeFilter): Promise<ManagedJobEntity | null> {
    const [row] = await this.query(sql.retryJob(jobId, tries, scope, NOTIFY_CHANNEL));
    return row ? toJob(row) : null;
  }

  async reap(maxLostRuns: number, lostReason: string): Promise<ReapResult> {
    const jobs = (await this.query(sql.reapExpired(maxLostRuns, lostReason))).map(toJob);
    return {
      requeued: jobs.filter((j) => j.status === JobStatus.Pending),
      failed: jobs.filter((j) => j.status === JobStatus.Failed),
    };
  }

  async addFile(run: RunRef, file: NewFile): Promise<ManagedJobFileEntity | null> {
    const [row] = await this.query(sql.insertFile(run, file));
    return row ? toFile(row) : null;
  }

  async listFiles(jobId: string, includeExpired = false): Promise<ManagedJobFileEntity[]> {
    return (await this.query(sql.listFiles(jobId, includeExpired))).map(toFile);
  }

  async findFile(jobId: string, fileId: string): Promise<ManagedJobFileEntity | null> {
    const [row] = await this.query(sql.findFile(jobId, fileId));
    return row ? toFile(row) : null;
  }

  async expiredFiles(limit: number): Promise<ManagedJobFileEntity[]> {
    return (await this.query(sql.expiredFiles(limit))).map(toFile);
  }

  async markFilesDeleted(fileIds: string[]): Promise<number> {
    const pool: pg.Pool = this.driver.master;
    const q = sql.markFilesDeleted(fileIds);
    return (await pool.query(q.text, q.values)).rowCount ?? 0;
  }

  async prunableJobs(olderThanDays: number, limit: number): Promise<string[]> {
    return (await this.query(sql.prunableJobs(olderThanDays, limit))).map((r) => r.job_id);
  }

  async filesOfJobs(jobIds: string[]): Promise<ManagedJobFileEntity[]> {
    return jobIds.length ? (await this.query(sql.filesOfJobs(jobIds))).map(toFile) : [];
  }

  async pruneFinished(jobIds: string[], olderThanDays: number): Promise<number> {
    if (!jobIds.length) return 0;
    const [row] = await this.query(sql.pruneFinished(jobIds, olderThanDays));
    return row.pruned;
  }

  /** LISTEN for wake-ups (dispatches, stop requests). */
  listen(onNotify: (payload: string) => void): Promise<void> {
    return this.listenOn(NOTIFY_CHANNEL, onNotify, () => onNotify('d:')); // anything dispatched while we were away
  }

  /** Broadcast job events to every process that called `listenEvents`, in order, in one round trip. */
  async publishEvents(payloads: string[]): Promise<void> {
    await this.query(sql.notifyMany(EVENTS_CHANNEL, payloads));
  }

  listenEvents(onEvent: (payload: string) => void): Promise<void> {
    return this.listenOn(EVENTS_CHANNEL, onEvent);
  }

  /**
   * The pool opens connections lazily, and a connection takes a TCP handshake and a SCRAM exchange
   * (~10 ms here): the first jobs after an idle start queued behind them (they were the whole p99
   * of the start-latency bench). Holding a few clients at once makes the pool open them now.
   */
  async warmUp(): Promise<void> {
    const pool: pg.Pool = this.driver.master;
    const n = Math.min(WARM_CONNECTIONS, (pool as unknown as { options?: { max?: number } }).options?.max ?? WARM_CONNECTIONS);
    const clients = await Promise.allSettled(Array.from({ length: n }, () => pool.connect()));
    for (const c of clients) if (c.status === 'fulfilled') c.value.release();
  }

  /** Whether a connection other than ours LISTENs for job events (it holds the listener lock). */
  async hasEventListeners(): Promise<boolean> {
    const [row] = await this.query({
      text: `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid
        AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND NOT (pid = ANY($3::int[]))) AS present`,
      values: [...LISTENER_LOCK, [...this.ownListenerPids]],
    });
    return row.present;
  }

  /**
   * A session advisory lock on one pooled connection kept for the whole run: whoever holds it
   * runs, the others skip. If this process dies, its connection closes and the lock goes with it.
   */
  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const pool: pg.Pool = this.driver.master;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const lock = sql.tryAdvisoryLock(key);
      const [row] = (await client.query(lock.text, lock.values)).rows;
      if (!row?.acquired) return { acquired: false };
      try {
        return { acquired: true, value: await fn() };
      } finally {
        const unlock = sql.advisoryUnlock(key);
        await client.query(unlock.text, unlock.values).catch((error: Error) => (broken = error));
      }
    } catch (error) {
      broken ??= error as Error;
      throw error;
    } finally {
      // A client whose unlock failed is destroyed rather than reused, which releases the lock.
      client.release(broken);
    }
  }

  /** LISTEN on a dedicated connection (not from the pool), reconnecting with jittered backoff. */
  private async listenOn(channel: string, onNotify: (payload: string) => void, onConnected?: () => void): Promise<void> {
    let failures = 0;
    const connect = async (): Promise<void> => {
      if (this.closed) return;
      const { Client } = this.driver.postgres as typeof pg;
      const client = new Client(this.connectionOptions());
      client.on('error', () => undefined); // surfaced through 'end' below
      try {
        await client.connect();
        await client.query(`LISTEN ${channel}`);
        if (channel === EVENTS_CHANNEL) await client.query(`SELECT pg_advisory_lock_shared($1, $2)`, [...LISTENER_LOCK]);
      } catch (error) {
        client.end().catch(() => undefined);
        return retry(error as Error);
      }
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      if (failures > 0) this.logger.log(`Reconnected to PostgreSQL for LISTEN ${channel}.`);
      failures = 0;
      this.listeners.set(channel, client);
      const pid = (client as unknown as { processID: number }).processID;
      this.ownListenerPids.add(pid);
      client.on('notification', (msg) => onNotify(msg.payload ?? ''));
      client.once('end', () => {
        if (this.listeners.get(channel) === client) this.listeners.delete(channel);
        this.ownListenerPids.delete(pid);
        if (!this.closed) retry(new Error('connection ended'));
      });
      onConnected?.();
    };
    const retry = (error: Error): void => {
      failures++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random() / 2);
      this.logger.warn(`LISTEN ${channel} connection lost (${error.message}); retrying in ${Math.round(delay)} ms.`);
      const timer = setTimeout(() => {
        this.listenTimers.delete(timer);
        void connect();
      }, delay);
      timer.unref();
      this.listenTimers.add(timer);
    };
    await connect();
  }

  private connectionOptions(applicationName = 'nestjs-managed-jobs listener'): pg.ClientConfig {
    const o: any = this.dataSource.options;
    return {
      connectionString: o.url,
      host: o.host,
      port: o.port,
      user: o.username,
      password: o.password,
      database: o.database,
      ssl: o.ssl,
      application_name: applicationName,
      ...(o.extra ?? {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.listenTimers) clearTimeout(timer);
    const clients = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}
