import type { JobCount, MonitoringStore, QueueDepth } from '../job-store.interface.js';
import type { MysqlConnection, MysqlTransaction } from './mysql.connection.js';
import { oldestDueAge, queueDepth } from './monitoring.sql.js';
import { addCounts, endedBetween, endedMark, jobCounts, moveEndedMark, safeWatermark, tryLockEndedMark } from './ended-counts.sql.js';

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
   * then count. Without the PROCESS privilege the watermark stays (still exact). When another
   * holds the row (a correction, another refresh), count without moving it, reading again if the
   * watermark moved between reading it and counting.
   */
  async jobCounts(type?: string): Promise<JobCount[]> {
    let rows = await this.db.transaction(async (tx) => {
      const [held] = await tx.query(tryLockEndedMark());
      if (!held) return null;
      const { w } = held;
      const c = Number(held.stale) === 1 ? await this.safeWatermark(tx) : null;
      if (c === null || c <= w) return tx.query(jobCounts(w, type));
      const ended = await tx.query(endedBetween(w, c));
      if (ended.length) await tx.run(addCounts(ended.map((r) => ({ queue: r.queue, type: r.type, status: r.status, n: Number(r.n) }))));
      await tx.run(moveEndedMark(c));
      const [{ w: moved }] = await tx.query(endedMark()); // c as stored (DATETIME(3))
      return tx.query(jobCounts(moved, type));
    }, true);
    // Another holds the mark row (a correction, another refresh): count without moving it.
    while (!rows) {
      const [{ w }] = await this.db.query(endedMark());
      const read = await this.db.query(jobCounts(w, type));
      if (read.every((r) => r.w === w)) rows = read;
    }
    return rows.map((r) => ({ queue: r.queue, status: r.status, count: Number(r.n) }));
  }

  /** False once reading INNODB_TRX was refused (ER_SPECIFIC_ACCESS_DENIED_ERROR: no PROCESS privilege). */
  private canSeeTransactions = true;
  /** When this process last read INNODB_TRX (reading it keeps its cache from being refreshed for 0.1 s). */
  private lastLook = 0;

  private async safeWatermark(tx: MysqlTransaction): Promise<string | null> {
    if (!this.canSeeTransactions || Date.now() - this.lastLook < 500) return null;
    this.lastLook = Date.now();
    try {
      const [row] = await tx.query(safeWatermark());
      return Number(row?.mine) > 0 ? row.c : null; // a list older than this transaction proves nothing
    } catch (error) {
      if ((error as { errno?: number }).errno !== 1227) throw error;
      this.canSeeTransactions = false;
      return null;
    }
  }
}
