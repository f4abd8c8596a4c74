import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import type { Sql } from './common.sql.js';

/** The parts of mysql2's promise API the store uses. */
interface Runner {
  execute(options: object): Promise<[any, unknown]>;
  query(options: object): Promise<[any, unknown]>;
}
interface PooledConnection extends Runner {
  release(): void;
  destroy?(): void;
}
interface PromisePool extends Runner {
  getConnection(): Promise<PooledConnection>;
}

/** ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT: the transaction was rolled back and can run again. */
const RETRYABLE = new Set([1213, 1205]);
/** ER_NEED_REPREPARE: the table changed under a prepared statement (ALTER TABLE at run time). */
const NEED_REPREPARE = 1615;
const MAX_TRANSACTION_TRIES = 8;
/** Pooled connections opened at start (see `warmUp`). */
const WARM_CONNECTIONS = 4;

/** One connection's statements inside a transaction (see `MysqlConnection.transaction`). */
export interface MysqlTransaction {
  query(q: Sql): Promise<any[]>;
  /** Rows matched (mysql2 connects with FOUND_ROWS: a write that changes nothing still counts its rows). */
  run(q: Sql): Promise<number>;
}

/**
 * The MySQL/MariaDB store parts' way to the database: the TypeORM data source's mysql2 pool (no
 * query runner, no logging layer: this is the hot path). Statements are server-side prepared
 * (`execute`, cached per connection by mysql2) unless `preparedStatements` is false (ProxySQL
 * and the like), and times come back as text (`dateStrings`), read as UTC by the row mapper.
 */
export class MysqlConnection {
  /** Texts to send unprepared from now on (see `NEED_REPREPARE`). */
  private readonly unprepared = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly prepare = true,
  ) {}

  get pool(): PromisePool {
    return (this.dataSource.driver as any).pool.promise();
  }

  /** The mysql2 module TypeORM loaded (a lease keeper thread loads the very same copy). */
  get driverModule(): unknown {
    return (this.dataSource.driver as any).mysql;
  }

  /** Options of a connection of its own (the lease keeper thread's), from the data source's. */
  clientOptions(): Record<string, unknown> {
    const o: any = this.dataSource.options;
    return {
      ...(o.url ? { uri: o.url } : {}),
      host: o.host,
      port: o.port,
      user: o.username,
      password: o.password,
      database: o.database,
      socketPath: o.socketPath,
      ssl: o.ssl,
      ...(o.extra ?? {}),
      // mysql2's default flags include FOUND_ROWS: rows matched, not rows changed, so a renewal
      // that changes nothing still says the run is ours.
    };
  }

  private async send(runner: Runner, q: Sql): Promise<any> {
    const options = { sql: q.text, values: q.values, dateStrings: true };
    if (!this.prepare || this.unprepared.has(q.text)) return (await runner.query(options))[0];
    try {
      return (await runner.execute(options))[0];
    } catch (error) {
      if ((error as { errno?: number }).errno !== NEED_REPREPARE) throw error;
      this.unprepared.add(q.text);
      return (await runner.query(options))[0];
    }
  }

  async query(q: Sql): Promise<any[]> {
    return this.autocommit(q);
  }

  async run(q: Sql): Promise<number> {
    return (await this.autocommit(q)).affectedRows;
  }

  /**
   * One statement in its own transaction. InnoDB can pick a single statement as a deadlock's victim
   * (two multi-row UPDATEs locking rows in different orders: a completion and a lease renewal, say);
   * the statement is then rolled back whole, so it runs again, as a transaction does. Seen on CI: a
   * job's completion failed with "Deadlock found when trying to get lock" and the run was recorded as
   * failed with that reason.
   */
  private async autocommit(q: Sql): Promise<any> {
    return this.retrying(() => this.send(this.pool, q));
  }

  /** `attempt` again while it fails on a deadlock or a lock wait timeout (rolled back), with jitter. */
  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!RETRYABLE.has((error as { errno?: number }).errno ?? 0) || tries >= MAX_TRANSACTION_TRIES) throw error;
        await sleep(Math.min(50, 2 * tries) * (0.5 + Math.random()));
      }
    }
  }

  /** Through a caller's EntityManager (its transaction). */
  async queryWith(manager: EntityManager, q: Sql): Promise<any> {
    return manager.query(q.text, q.values);
  }

  /**
   * Run `fn` in a transaction on one pooled connection; READ COMMITTED when `readCommitted` (the
   * claims: no gap locks, and rows a locking read passes over are not kept locked). A deadlock
   * or lock wait timeout rolls back and runs `fn` again, with jitter.
   */
  async transaction<T>(fn: (tx: MysqlTransaction) => Promise<T>, readCommitted = false): Promise<T> {
    return this.retrying(async () => {
      const conn = await this.pool.getConnection();
      const tx: MysqlTransaction = {
        query: (q) => this.send(conn, q),
        run: async (q) => (await this.send(conn, q)).affectedRows,
      };
      let broken = false;
      try {
        if (readCommitted) await conn.query({ sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED' });
        await conn.query({ sql: 'START TRANSACTION' });
        const value = await fn(tx);
        await conn.query({ sql: 'COMMIT' });
        return value;
      } catch (error) {
        await conn.query({ sql: 'ROLLBACK' }).catch(() => (broken = true));
        throw error;
      } finally {
        if (broken && conn.destroy) conn.destroy();
        else conn.release();
      }
    });
  }

  /** A dedicated pooled connection for `fn` (session state such as named locks). */
  async withConnection<T>(fn: (tx: MysqlTransaction, discard: () => void) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    let discard = false;
    try {
      return await fn({ query: (q) => this.send(conn, q), run: async (q) => (await this.send(conn, q)).affectedRows }, () => (discard = true));
    } finally {
      if (discard && conn.destroy) conn.destroy();
      else conn.release();
    }
  }

  /** The pool opens connections lazily: hold a few at once so the first jobs do not wait for handshakes. */
  async warmUp(): Promise<void> {
    const pool = this.pool;
    const clients = await Promise.allSettled(Array.from({ length: WARM_CONNECTIONS }, () => pool.getConnection()));
    for (const c of clients) if (c.status === 'fulfilled') c.value.release();
  }
}
