import type { JobCount, MonitoringStore, QueueDepth } from '../job-store.interface.js';
import type { PostgresConnection } from './postgres.connection.js';
import { oldestDueAge, queueDepth } from './monitoring.sql.js';
import { addEnded, endedMark, jobCounts, safeWatermark, tryLockEndedMark } from './ended-counts.sql.js';

export class PostgresMonitoringStore implements MonitoringStore {
  constructor(private readonly db: PostgresConnection) {}

  async queueDepth(): Promise<QueueDepth[]> {
    return (await this.db.query(queueDepth())).map((r) => ({ queue: r.queue, status: r.status, count: Number(r.count) }));
  }

  async oldestDueAgeMs(queues: string[]): Promise<number | null> {
    const [row] = await this.db.query(oldestDueAge(queues));
    return row?.age_ms === null || row?.age_ms === undefined ? null : Math.max(0, Number(row.age_ms));
  }

  /**
   * One transaction holding the mark row: move the watermark where it safely can, then count. When
   * another holds it (a correction, another refresh), count without moving it, reading again if
   * the watermark moved between reading it and counting.
   */
  async jobCounts(type?: string): Promise<JobCount[]> {
    let rows = await this.db.transaction(async (query) => {
      const [held] = await query(tryLockEndedMark());
      if (!held) return null;
      const [{ c }] = await query(safeWatermark());
      if (c === null || c <= held.w) return query(jobCounts(held.w, type));
      await query(addEnded(held.w, c));
      return query(jobCounts(c, type));
    });
    while (!rows) {
      const [{ w }] = await this.db.query(endedMark());
      const read = await this.db.query(jobCounts(w, type));
      if (read.every((r) => r.w === w)) rows = read;
    }
    return rows.map((r) => ({ queue: r.queue, status: r.status, count: Number(r.n) }));
  }
}
