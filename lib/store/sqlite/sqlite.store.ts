import type { DataSource } from 'typeorm';
import type { StoreParts } from '../composed-job-store.js';
import { SqliteClusterLock } from './cluster-lock.js';
import { SqliteFileStore } from './file.store.js';
import { SqliteMaintenanceStore } from './maintenance.store.js';
import { SqliteMonitoringStore } from './monitoring.store.js';
import { SqliteNotifier } from './notifier.js';
import { SqliteConnection } from './sqlite.connection.js';
import { SqliteQueueStore } from './queue.store.js';
import { SqliteBatchStore } from './batch.store.js';

/** SQLite: every part shares one connection of the store's own to the app's database file. */
export function sqliteStoreParts(dataSource: DataSource): StoreParts {
  const db = new SqliteConnection(dataSource);
  const notifier = new SqliteNotifier(db);
  return {
    dialect: 'sqlite',
    capabilities: { crossProcessEvents: false, overlappingStatements: false },
    batches: new SqliteBatchStore(db),
    queue: new SqliteQueueStore(db),
    files: new SqliteFileStore(db),
    maintenance: new SqliteMaintenanceStore(db),
    monitoring: new SqliteMonitoringStore(db),
    notifier,
    lock: new SqliteClusterLock(db),
    lifecycle: {
      warmUp: async () => undefined,
      close: async () => {
        notifier.close();
        db.close();
      },
    },
  };
}
