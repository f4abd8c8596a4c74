/**
 * Runs the operator's statements (`sql/`) through the app's TypeORM data source. Not on the job
 * hot path: statements run once per operator call, per registry heartbeat or per log batch.
 */
import type { DataSource } from 'typeorm';
import { UNSUPPORTED_DATABASE } from '../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import type { OperatorSql, Sql } from './sql/operator-sql.interface.js';
import { mysqlOperatorSql } from './sql/mysql.sql.js';
import { postgresOperatorSql } from './sql/postgres.sql.js';
import { sqliteOperatorSql } from './sql/sqlite.sql.js';

export class OperatorStore {
  readonly sql: OperatorSql;

  constructor(private readonly dataSource: DataSource) {
    switch (dataSource.options.type) {
      case 'postgres':
        this.sql = postgresOperatorSql;
        break;
      case 'mysql':
      case 'mariadb':
        this.sql = mysqlOperatorSql;
        break;
      case 'better-sqlite3':
        this.sql = sqliteOperatorSql;
        break;
      default:
        throw new ManagedJobsConfigurationError(UNSUPPORTED_DATABASE(dataSource.options.type));
    }
  }

  /** The rows a statement returned (PostgreSQL answers a write with `[rows, count]` through TypeORM). */
  async rows<T = Record<string, any>>(q: Sql): Promise<T[]> {
    const result: any = await this.dataSource.query(q.text, q.values);
    if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
    return Array.isArray(result) ? result : [];
  }

  async one<T = Record<string, any>>(q: Sql): Promise<T | null> {
    return (await this.rows<T>(q))[0] ?? null;
  }

  /** How many rows a write changed: its returned rows, or the write's header (MySQL/MariaDB). */
  async write(q: Sql): Promise<number> {
    const result: any = await this.dataSource.query(q.text, q.values);
    if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
    if (Array.isArray(result)) return result.length;
    return Number(result?.affectedRows ?? result?.changes ?? 0);
  }
}
