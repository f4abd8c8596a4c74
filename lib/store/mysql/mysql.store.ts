import type { DataSource } from 'typeorm';
import type { StoreParts } from '../composed-job-store.js';
import { MysqlClusterLock } from './cluster-lock.js';
import { MysqlFileStore } from './file.store.js';
import { MysqlMaintenanceStore } from './maintenance.store.js';
import { MysqlMonitoringStore } from './monitoring.store.js';
import { MysqlConnection } from './mysql.connection.js';
import { MysqlNotifier } from './notifier.js';
import { MysqlQueueStore } from './queue.store.js';
import { MysqlBatchStore } from './batch.store.js';

/**
 * MySQL 8 and MariaDB ≥ 10.6 (TypeORM types 'mysql' and 'mariadb', driver mysql2): every part
 * shares the TypeORM data source's pool; the notifier polls the wake-up state and the job events on it.
 */
export function mysqlStoreParts(dataSource: DataSource, preparedStatements: boolean): StoreParts {
  const db = new MysqlConnection(dataSource, preparedStatements);
  const notifier = new MysqlNotifier(db);
  return {
    dialect: dataSource.options.type === 'mariadb' ? 'mariadb' : 'mysql',
    capabilities: { crossProcessEvents: true, overlappingStatements: true },
    batches: new MysqlBatchStore(db),
    queue: new MysqlQueueStore(db),
    files: new MysqlFileStore(db),
    maintenance: new MysqlMaintenanceStore(db),
    monitoring: new MysqlMonitoringStore(db),
    notifier,
    lock: new MysqlClusterLock(db),
    // The pool is the application's (TypeORM closes it); ours are the wake-up and event timers.
    lifecycle: { warmUp: () => db.warmUp(), close: async () => notifier.close() },
  };
}
