import type { JobCount, MonitoringStore, QueueDepth } from '../job-store.interface.js';
import type { MysqlConnection } from './mysql.connection.js';
import { oldestDueAge, queueDepth } from './monitoring.sql.js';
import { addCounts, endedBetween, jobCounts, lockEndedMark, moveEndedMark, safeWatermark } from './ended-counts.sql.js';

export class MysqlMonitoringStore implements MonitoringStore {
  constructor(private readonly db: MysqlConnection) {}

  async queueDepth(): Promise<QueueDepth[]> {
    return (await this.db.query(queueDepth())).map((r) => ({ queue: r.queue, status: r.status, count: Number(r.count) }));
  }

  async oldestDueAgeMs(queues: string[]): Promise<number | null> {
    const [row] = await this.db.query(oldestDueAge(queues));
    return row?.age_ms === null || row?.age_ms === undefined ? null : Math.max(0, Number(row.age_ms));
  }

  /**
   * One READ COMMITTED transaction holding the mark row: move the watermark where it safely can,
   * then count. Without the PROCESS privilege the watermark stays (still exact).
   */
  async jobCounts(): Promise<JobCount[]> {
    const rows = await this.db.transaction(async (tx) => {
      const [{ w }] = await tx.query(lockEndedMark());
      const c: string | null = this.canSeeTransactions ? await tx.query(safeWatermark()).then(([r]) => r.c, () => ((this.canSeeTransactions = false), null)) : null;
      if (c === null || c <= w) return tx.query(jobCounts(w));
      const ended = await tx.query(endedBetween(w, c));
      if (ended.length) await tx.run(addCounts(ended.map((r) => ({ queue: r.queue, status: r.status, n: Number(r.n) }))));
      await tx.run(moveEndedMark(c));
      return tx.query(jobCounts(c));
    }, true);
    return rows.map((r) => ({ queue: r.queue, status: r.status, count: Number(r.n) }));
  }

  /** False once reading INNODB_TRX was refused. */
  private canSeeTransactions = true;
}
