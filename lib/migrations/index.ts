import type { MigrationInterface } from 'typeorm';
import { UNSUPPORTED_DATABASE } from '../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { ManagedJobsMysqlInit1763800000000 } from './mysql.migrations.js';
import { ManagedJobsPostgresInit1763800000000 } from './postgres.migrations.js';
import { ManagedJobsSqliteInit1763800000000 } from './sqlite.migrations.js';
import { ManagedJobsPostgresSchedules1764400000000 } from './postgres-schedules.migration.js';
import { ManagedJobsSqliteSchedules1764400000000 } from './sqlite-schedules.migration.js';
import { ManagedJobsMysqlSchedules1764400000000 } from './mysql-schedules.migration.js';
import { ManagedJobsPostgresQueueControl1764500000000 } from './postgres-queue-control.migration.js';
import { ManagedJobsSqliteQueueControl1764500000000 } from './sqlite-queue-control.migration.js';
import { ManagedJobsMysqlQueueControl1764500000000 } from './mysql-queue-control.migration.js';

type MigrationClass = new () => MigrationInterface;

/**
 * The migrations for a database type, as TypeORM names it, for the app's own `migrations` list:
 * `migrations: [...managedJobsMigrations('postgres'), ...yours]`.
 */
export function managedJobsMigrations(type: string): MigrationClass[] {
  switch (type) {
    case 'postgres':
      return [ManagedJobsPostgresInit1763800000000, ManagedJobsPostgresSchedules1764400000000, ManagedJobsPostgresQueueControl1764500000000];
    case 'mysql':
    case 'mariadb':
      return [ManagedJobsMysqlInit1763800000000, ManagedJobsMysqlSchedules1764400000000, ManagedJobsMysqlQueueControl1764500000000];
    case 'better-sqlite3':
    case 'sqlite':
      return [ManagedJobsSqliteInit1763800000000, ManagedJobsSqliteSchedules1764400000000, ManagedJobsSqliteQueueControl1764500000000];
    default:
      throw new ManagedJobsConfigurationError(UNSUPPORTED_DATABASE(type));
  }
}
