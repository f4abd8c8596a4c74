import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type pg from 'pg';
import type { Sql } from './common.sql.js';

/** `timestamp` (OID 1114) values are UTC; parse them as such whatever the process time zone. */
const TIMESTAMP_OID = 1114;
/**
 * `jsonb` (OID 3802) arrives as text and is parsed once by the row mapper, as on SQLite: parsed
 * here too, a job result that is a JSON string (`"done"`) was parsed twice and broke every read.
 */
const JSONB_OID = 3802;

/** Pooled connections opened at start (see `warmUp`). */
const WARM_CONNECTIONS = 4;

/** Distinct statement texts prepared per connection at most (see `statementName`). */
const MAX_PREPARED = 200;

/**
 * The PostgreSQL store parts' way to the database. Queries go straight to the TypeORM data
 * source's `pg` pool (no query runner, no logging layer: this is the hot path).
 */
export class PostgresConnection {
  readonly types: pg.CustomTypesConfig;
  /** Statement text → prepared statement name ('' = send unnamed). */
  private readonly statementNames = new Map<string, string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly prepare = true,
  ) {
    const pgTypes = this.pg.types;
    this.types = {
      getTypeParser: ((oid: number, format?: any) =>
        oid === TIMESTAMP_OID || oid === JSONB_OID ? (v: string) => v : pgTypes.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    };
  }

  /** The `pg` module TypeORM loaded (its `Client`, its type parsers). */
  get pg(): typeof pg {
    return (this.dataSource.driver as any).postgres;
  }

  get pool(): pg.Pool {
    return (this.dataSource.driver as any).master;
  }

  /**
   * Statements are prepared once per connection (named by a hash of their text): the hot path's
   * CTEs took longer to plan than to run. `preparedStatements: false` sends them unnamed (for
   * PgBouncer before 1.21 in transaction mode).
   */
  async query(q: Sql): Promise<any[]> {
    const pool = this.pool;
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

  /** Run `fn`'s statements in one transaction on one pooled connection (prepared, as `query`). */
  async transaction<T>(fn: (query: (q: Sql) => Promise<any[]>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const value = await fn(async (q) => (await client.query({ name: this.statementName(q.text), text: q.text, values: q.values, types: this.types })).rows);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** How many rows a write changed (sent unnamed, with no row parsing). */
  async rowCount(q: Sql): Promise<number> {
    return (await this.pool.query(q.text, q.values)).rowCount ?? 0;
  }

  /** Through a caller's EntityManager (its transaction); rows as its driver returns them. */
  async queryWith(manager: EntityManager, q: Sql): Promise<any[]> {
    return manager.query(q.text, q.values);
  }

  /** The name `text` is prepared under on every connection (undefined: sent unnamed). */
  statementName(text: string): string | undefined {
    if (!this.prepare) return undefined;
    let name = this.statementNames.get(text);
    if (name === undefined) {
      // Texts are few (one per statement shape, none built from request data); past the cap a
      // text goes unnamed and is not remembered, so neither this map nor the connections'
      // statement caches can grow without bound.
      if (this.statementNames.size >= MAX_PREPARED) return undefined;
      name = `nmj_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      this.statementNames.set(text, name);
    }
    return name || undefined;
  }

  /**
   * The pool opens connections lazily, and a connection takes a TCP handshake and a SCRAM exchange
   * (~10 ms here): the first jobs after an idle start queued behind them (they were the whole p99
   * of the start-latency bench). Holding a few clients at once makes the pool open them now.
   */
  async warmUp(): Promise<void> {
    const pool = this.pool;
    const n = Math.min(WARM_CONNECTIONS, (pool as unknown as { options?: { max?: number } }).options?.max ?? WARM_CONNECTIONS);
    const clients = await Promise.allSettled(Array.from({ length: n }, () => pool.connect()));
    for (const c of clients) if (c.status === 'fulfilled') c.value.release();
  }

  /** Options for a dedicated client (not from the pool), e.g. a LISTEN connection. */
  clientOptions(applicationName: string): pg.ClientConfig {
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
}
