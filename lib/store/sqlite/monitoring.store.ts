import type { JobCount, MonitoringStore, QueueDepth } from '../job-store.interface.js';
import type { SqliteConnection } from './sqlite.connection.js';
import { oldestDueAge, queueDepth } from './monitoring.sql.js';
import { addEnded, endedStale, jobCounts, moveEndedMark } from './ended-counts.sql.js';

export class SqliteMonitoringStore implements MonitoringStore {
  constructor(private readonly db: SqliteConnection) {}

  async queueDepth(): Promise<QueueDepth[]> {
    return this.db.all(queueDepth()).map((r) => ({ queue: r.queue, status: r.status, count: Number(r.count) }));
  }

  async oldestDueAgeMs(queues: string[]): Promise<number | null> {
    const row = this.db.get(oldestDueAge(queues));
    return row?.age_ms === null || row?.age_ms === undefined ? null : Math.max(0, Number(row.age_ms));
  }

  /** Moves the watermark when it lags (one short write every few seconds at most), then counts in one statement. */
  async jobCounts(type?: string): Promise<JobCount[]> {
    if (this.db.get(endedStale())) {
      await this.db.write(() => {
        const stale = this.db.get(endedStale()); // again, under the write lock
        if (!stale) return;
        this.db.run(addEnded(stale.c));
        this.db.run(moveEndedMark(stale.c));
      });
    }
    return this.db.all(jobCounts(type)).map((r) => ({ queue: r.queue, status: r.status, count: Number(r.n) }));
  }
}
