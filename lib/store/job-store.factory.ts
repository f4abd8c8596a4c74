import type { DataSource } from 'typeorm';
import { UNSUPPORTED_DATABASE } from '../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { ComposedJobStore } from './composed-job-store.js';
import type { JobStore } from './job-store.interface.js';
import { mysqlStoreParts } from './mysql/mysql.store.js';
import { postgresStoreParts } from './postgres/postgres.store.js';
import { sqliteStoreParts } from './sqlite/sqlite.store.js';

/** Picks the store for the data source's dialect, once, and composes its parts. */
export function createJobStore(dataSource: DataSource, options: { preparedStatements: boolean } = { preparedStatements: true }): JobStore {
  switch (dataSource.options.type) {
    case 'postgres':
      return new ComposedJobStore(postgresStoreParts(dataSource, options.preparedStatements));
    case 'mysql':
    case 'mariadb':
      return new ComposedJobStore(mysqlStoreParts(dataSource, options.preparedStatements));
    case 'better-sqlite3':
      return new ComposedJobStore(sqliteStoreParts(dataSource));
    default:
      throw new ManagedJobsConfigurationError(UNSUPPORTED_DATABASE(dataSource.options.type));
  }
}
