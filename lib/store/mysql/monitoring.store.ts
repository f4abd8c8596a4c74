import type { MonitoringStore, QueueDepth } from '../job-store.interface.js';
import type { MysqlConnection } from './mysql.connection.js';
import { oldestDueAge, queueDepth } from './monitoring.sql.js';

export class MysqlMonitoringStore implements MonitoringStore {
  constructor(private readonly db: MysqlConnection) {}

  async queueDepth(): Promise<QueueDepth[]> {
    return (await this.db.query(queueDepth())).map((r) => ({ queue: r.queue, status: r.status, count: Number(r.count) }));
  }

  async oldestDueAgeMs(queues: string[]): Promise<number | null> {
    const [row] = await this.db.query(oldestDueAge(queues));
    return row?.age_ms === null || row?.age_ms === undefined ? null : Math.max(0, Number(row.age_ms));
  }
}
