import type { MonitoringStore, QueueDepth } from '../job-store.interface.js';
import type { SqliteConnection } from './sqlite.connection.js';
import { oldestDueAge, queueDepth } from './monitoring.sql.js';

export class SqliteMonitoringStore implements MonitoringStore {
  constructor(private readonly db: SqliteConnection) {}

  async queueDepth(): Promise<QueueDepth[]> {
    return this.db.all(queueDepth()).map((r) => ({ queue: r.queue, status: r.status, count: Number(r.count) }));
  }

  async oldestDueAgeMs(queues: string[]): Promise<number | null> {
    const row = this.db.get(oldestDueAge(queues));
    return row?.age_ms === null || row?.age_ms === undefined ? null : Math.max(0, Number(row.age_ms));
  }
}
