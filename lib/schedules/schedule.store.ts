/**
 * Reads and writes `managed_job_schedules` through the app's TypeORM data source (or a caller's
 * transaction), with the SQL of the dialect's builder. Not on the job hot path: a schedule costs
 * one indexed read per ticker wake-up and a short transaction per occurrence.
 *
 * SQLite: TypeORM has ONE connection and one query runner, so two transactions open at once in a
 * process would nest as savepoints. This store runs its own transactions one at a time.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { UNSUPPORTED_DATABASE } from '../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import type { ScheduleSql, Sql } from './sql/schedule-sql.interface.js';
import { mysqlScheduleSql } from './sql/mysql.sql.js';
import { postgresScheduleSql } from './sql/postgres.sql.js';
import { sqliteScheduleSql } from './sql/sqlite.sql.js';

type Queryable = Pick<EntityManager, 'query'> | Pick<DataSource, 'query'>;

export class ScheduleStore {
  readonly sql: ScheduleSql;
  private readonly serial: boolean;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataSource: DataSource) {
    switch (dataSource.options.type) {
      case 'postgres':
        this.sql = postgresScheduleSql;
        this.serial = false;
        break;
      case 'mysql':
      case 'mariadb':
        this.sql = mysqlScheduleSql;
        this.serial = false;
        break;
      case 'better-sqlite3':
        this.sql = sqliteScheduleSql;
        this.serial = true;
        break;
      default:
        throw new ManagedJobsConfigurationError(UNSUPPORTED_DATABASE(dataSource.options.type));
    }
  }

  /** The rows a statement returned (PostgreSQL answers an UPDATE/DELETE with `[rows, count]` through TypeORM). */
  async rows<T = Record<string, any>>(q: Sql, via: Queryable = this.dataSource): Promise<T[]> {
    const result: any = await via.query(q.text, q.values);
    // MySQL/MariaDB answer a write with its header (matched rows, as mysql2 connects with FOUND_ROWS).
    if (q.then) return typeof result?.affectedRows === 'number' && result.affectedRows > 0 ? this.rows<T>(q.then, via) : [];
    if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
    return Array.isArray(result) ? result : [];
  }

  async one<T = Record<string, any>>(q: Sql, via?: Queryable): Promise<T | null> {
    return (await this.rows<T>(q, via))[0] ?? null;
  }

  /** A transaction on the app's data source; on SQLite, one at a time per process. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serial) return this.dataSource.transaction(work);
    const run = this.chain.then(() => this.dataSource.transaction(work));
    this.chain = run.catch(() => undefined);
    return run;
  }
}
