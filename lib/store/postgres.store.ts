import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type pg from 'pg';
import { EVENTS_CHANNEL, NOTIFY_CHANNEL } from '../managed-jobs.constants.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import type {
  Completion,
  Failure,
  JobStore,
  ListFilter,
  NewFile,
  NewJob,
  ReapResult,
  RunRef,
  ScopeFilter,
} from './job-store.interface.js';
import { toFile, toJob } from './row-mapper.js';
import * as sql from './sql/postgres.sql.js';
import { JobStatus } from '../enums/job-status.enum.js';

/** `timestamp` (OID 1114) values are UTC; parse them as such whatever the process time zone. */
const TIMESTAMP_OID = 1114;
/**
 * `jsonb` (OID 3802) arrives as text and is parsed once by the row mapper, as on SQLite: parsed
 * here too, a job result that is a JSON string (`"done"`) was parsed twice and broke every read.
 */
const JSONB_OID = 3802;

/**
 * PostgreSQL store. Queries go straight to the TypeORM data source's `pg` pool (no query runner,
 * no logging layer: this is the hot path). A dedicated client LISTENs for wake-ups and reconnects
 * with jittered backoff; losing it only costs latency, because workers keep polling.
 */
export class PostgresJobStore implements JobStore {
  readonly dialect = 'postgres' as const;
  private readonly logger = new Logger('ManagedJobs');
  private readonly types: pg.CustomTypesConfig;
  /** LISTEN connections by channel (wake-ups, job events). */
  private readonly listeners = new Map<string, pg.Client>();
  private readonly listenTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly dataSource: DataSource) {
    const pgTypes = (this.driver.postgres as typeof pg).types;
    this.types = {
      getTypeParser: ((oid: number, format?: any) =>
        oid === TIMESTAMP_OID || oid === JSONB_OID ? (v: string) => v : pgTypes.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    };
  }

  private get driver(): any {
    return this.dataSource.driver as any;
  }

  private async query(q: sql.Sql): Promise<any[]> {
    const pool: pg.Pool = this.driver.master;
    const res = await pool.query({ text: q.text, values: q.values, types: this.types });
    return res.rows;
  }

  async insert(jobs: NewJob[], manager?: EntityManager, wakeOrigin = ''): Promise<ManagedJobEntity[]> {
    const queues = [...new Set(jobs.map((j) => j.queue))].join(',');
    const q = sql.insertJobs(jobs, NOTIFY_CHANNEL, `d:${queues}|${wakeOrigin}`);
    const rows = manager ? await manager.query(q.text, q.values) : await this.query(q);
    return rows.map(toJob);
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

  async claim(queue: string, types: string[], limit: number, workerId: string, leaseMs: number): Promise<ManagedJobEntity[]> {
    return (await this.query(sql.claimJobs(queue, types, limit, workerId, leaseMs))).map(toJob);
  }

  async renewLeases(runs: RunRef[], workerId: string, leaseMs: number): Promise<RunRef[]> {
    const rows = await this.query(sql.renewLeases(runs, workerId, leaseMs));
    return rows.map((r) => ({ jobId: r.job_id, fence: Number(r.fence) }));
  }

  async complete(runs: Completion[]): Promise<ManagedJobEntity[]> {
    return (await this.query(sql.completeJobs(runs))).map(toJob);
  }

  async fail(run: Failure): Promise<ManagedJobEntity | null> {
    const [row] = await this.query(sql.failJob(run));
    return row ? toJob(row) : null;
  }

  async release(runs: RunRef[]): Promise<ManagedJobEntity[]> {
    return (await this.query(sql.releaseJobs(runs, NOTIFY_CHANNEL))).map(toJob);
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
    const pool: pg.Pool = this.driver.master;
    const q = sql.pruneFinished(jobIds, olderThanDays);
    return (await pool.query(q.text, q.values)).rowCount ?? 0;
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
      client.on('notification', (msg) => onNotify(msg.payload ?? ''));
      client.once('end', () => {
        if (this.listeners.get(channel) === client) this.listeners.delete(channel);
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

  private connectionOptions(): pg.ClientConfig {
    const o: any = this.dataSource.options;
    return {
      connectionString: o.url,
      host: o.host,
      port: o.port,
      user: o.username,
      password: o.password,
      database: o.database,
      ssl: o.ssl,
      application_name: 'nestjs-managed-jobs listener',
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
