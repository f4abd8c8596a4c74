import type { DataSource } from 'typeorm';
import { UNSUPPORTED_DATABASE } from '../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import type { JobStore } from './job-store.interface.js';
import { PostgresJobStore } from './postgres.store.js';
import { SqliteJobStore } from './sqlite.store.js';

/** Picks the store for the data source's dialect, once. */
export function createJobStore(dataSource: DataSource, options: { preparedStatements: boolean } = { preparedStatements: true }): JobStore {
  switch (dataSource.options.type) {
    case 'postgres':
      return new PostgresJobStore(dataSource, options.preparedStatements);
    case 'better-sqlite3':
      return new SqliteJobStore(dataSource);
    default:
      throw new ManagedJobsConfigurationError(UNSUPPORTED_DATABASE(dataSource.options.type));
  }
}
