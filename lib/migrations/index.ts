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
import { ManagedJobsPostgresRunControl1764600000000 } from './postgres-run-control.migration.js';
import { ManagedJobsSqliteRunControl1764600000000 } from './sqlite-run-control.migration.js';
import { ManagedJobsMysqlRunControl1764600000000 } from './mysql-run-control.migration.js';
import { ManagedJobsMysqlEvents1764900000000 } from './mysql-events.migration.js';
import { ManagedJobsPostgresTraceContext1765000000000 } from './postgres-trace-context.migration.js';
import { ManagedJobsSqliteTraceContext1765000000000 } from './sqlite-trace-context.migration.js';
import { ManagedJobsMysqlTraceContext1765000000000 } from './mysql-trace-context.migration.js';
import { ManagedJobsPostgresOperations1765000000000 } from './postgres-operations.migration.js';
import { ManagedJobsSqliteOperations1765000000000 } from './sqlite-operations.migration.js';
import { ManagedJobsMysqlOperations1765000000000 } from './mysql-operations.migration.js';
import { ManagedJobsPostgresWorkflows1765100000000 } from './postgres-workflows.migration.js';
import { ManagedJobsSqliteWorkflows1765100000000 } from './sqlite-workflows.migration.js';
import { ManagedJobsMysqlWorkflows1765100000000 } from './mysql-workflows.migration.js';
import { ManagedJobsPostgresEndedCounts1765200000000 } from './postgres-ended-counts.migration.js';
import { ManagedJobsSqliteEndedCounts1765200000000 } from './sqlite-ended-counts.migration.js';
import { ManagedJobsMysqlEndedCounts1765200000000 } from './mysql-ended-counts.migration.js';
import { ManagedJobsPostgresKeyedClaim1765300000000 } from './postgres-keyed-claim.migration.js';

type MigrationClass = new () => MigrationInterface;

/**
 * The migrations for a database type, as TypeORM names it, for the app's own `migrations` list:
 * `migrations: [...managedJobsMigrations('postgres'), ...yours]`.
 */
export function managedJobsMigrations(type: string): MigrationClass[] {
  switch (type) {
    case 'postgres':
      return [
        ManagedJobsPostgresInit1763800000000,
        ManagedJobsPostgresSchedules1764400000000,
        ManagedJobsPostgresQueueControl1764500000000,
        ManagedJobsPostgresRunControl1764600000000,
        ManagedJobsPostgresTraceContext1765000000000,
        ManagedJobsPostgresOperations1765000000000,
        ManagedJobsPostgresWorkflows1765100000000,
        ManagedJobsPostgresEndedCounts1765200000000,
        ManagedJobsPostgresKeyedClaim1765300000000,
      ];
    case 'mysql':
    case 'mariadb':
      return [
        ManagedJobsMysqlInit1763800000000,
        ManagedJobsMysqlSchedules1764400000000,
        ManagedJobsMysqlQueueControl1764500000000,
        ManagedJobsMysqlRunControl1764600000000,
        ManagedJobsMysqlEvents1764900000000,
        ManagedJobsMysqlTraceContext1765000000000,
        ManagedJobsMysqlOperations1765000000000,
        ManagedJobsMysqlWorkflows1765100000000,
        ManagedJobsMysqlEndedCounts1765200000000,
      ];
    case 'better-sqlite3':
    case 'sqlite':
      return [
        ManagedJobsSqliteInit1763800000000,
        ManagedJobsSqliteSchedules1764400000000,
        ManagedJobsSqliteQueueControl1764500000000,
        ManagedJobsSqliteRunControl1764600000000,
        ManagedJobsSqliteTraceContext1765000000000,
        ManagedJobsSqliteOperations1765000000000,
        ManagedJobsSqliteWorkflows1765100000000,
        ManagedJobsSqliteEndedCounts1765200000000,
      ];
    default:
      throw new ManagedJobsConfigurationError(UNSUPPORTED_DATABASE(type));
  }
}
