import type { JobCount, MonitoringStore, QueueDepth } from '../job-store.interface.js';
import type { PostgresConnection } from './postgres.connection.js';
import { oldestDueAge, queueDepth } from './monitoring.sql.js';
import { addEnded, jobCounts, lockEndedMark, safeWatermark } from './ended-counts.sql.js';

export class PostgresMonitoringStore implements MonitoringStore {
  constructor(private readonly db: PostgresConnection) {}

  async queueDepth(): Promise<QueueDepth[]> {
    return (await this.db.query(queueDepth())).map((r) => ({ queue: r.queue, status: r.status, count: Number(r.count) }));
  }

  async oldestDueAgeMs(queues: string[]): Promise<number | null> {
    const [row] = await this.db.query(oldestDueAge(queues));
    return row?.age_ms === null || row?.age_ms === undefined ? null : Math.max(0, Number(row.age_ms));
  }

  /** One transaction holding the mark row: move the watermark where it safely can, then count. */
  async jobCounts(type?: string): Promise<JobCount[]> {
    const rows = await this.db.transaction(async (query) => {
      const [{ w }] = await query(lockEndedMark());
      const [{ c }] = await query(safeWatermark());
      if (c === null || c <= w) return query(jobCounts(w, type));
      await query(addEnded(w, c));
      return query(jobCounts(c, type));
    });
    return rows.map((r) => ({ queue: r.queue, status: r.status, count: Number(r.n) }));
  }
}
