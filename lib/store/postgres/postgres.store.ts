import type { DataSource } from 'typeorm';
import type { StoreParts } from '../composed-job-store.js';
import { PostgresClusterLock } from './cluster-lock.js';
import { PostgresFileStore } from './file.store.js';
import { PostgresMaintenanceStore } from './maintenance.store.js';
import { PostgresMonitoringStore } from './monitoring.store.js';
import { PostgresNotifier } from './notifier.js';
import { PostgresConnection } from './postgres.connection.js';
import { PostgresQueueStore } from './queue.store.js';
import { PostgresBatchStore } from './batch.store.js';

/**
 * PostgreSQL: every part shares the TypeORM data source's pool (statements prepared per
 * connection unless `preparedStatements` is false); the notifier adds its own LISTEN clients.
 */
export function postgresStoreParts(dataSource: DataSource, preparedStatements: boolean): StoreParts {
  const db = new PostgresConnection(dataSource, preparedStatements);
  const notifier = new PostgresNotifier(db);
  return {
    dialect: 'postgres',
    capabilities: { crossProcessEvents: true, overlappingStatements: true },
    batches: new PostgresBatchStore(db),
    queue: new PostgresQueueStore(db),
    files: new PostgresFileStore(db),
    maintenance: new PostgresMaintenanceStore(db),
    monitoring: new PostgresMonitoringStore(db),
    notifier,
    lock: new PostgresClusterLock(db),
    // The pool is the application's (TypeORM closes it); ours are the LISTEN clients.
    lifecycle: { warmUp: () => db.warmUp(), close: () => notifier.close() },
  };
}
