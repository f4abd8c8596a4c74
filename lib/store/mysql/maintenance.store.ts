import type { MaintenanceStore } from '../job-store.interface.js';
import { deleteAttempts, deleteJobs, deleteLogs, lockDeletable, lockPrunable, prunableJobs } from './maintenance.sql.js';
import { keepingEndedCounts } from './ended-counts.js';
import type { MysqlConnection } from './mysql.connection.js';

export class MysqlMaintenanceStore implements MaintenanceStore {
  constructor(private readonly db: MysqlConnection) {}

  async prunableJobs(olderThanDays: number, limit: number): Promise<string[]> {
    return (await this.db.query(prunableJobs(olderThanDays, limit))).map((r) => r.job_id);
  }

  /** One transaction: lock the ones still prunable (a job retried in between is kept), delete them, their ledger and their logs. */
  async pruneFinished(jobIds: string[], olderThanDays: number): Promise<number> {
    if (!jobIds.length) return 0;
    return this.db.transaction((tx) =>
      keepingEndedCounts(tx, jobIds, async () => {
        const ids: string[] = (await tx.query(lockPrunable(jobIds, olderThanDays))).map((r) => r.job_id);
        if (!ids.length) return 0;
        await tx.run(deleteAttempts(ids));
        await tx.run(deleteLogs(ids));
        return tx.run(deleteJobs(ids));
      }),
    );
  }

  /** As `pruneFinished`: lock the ones still in one of `statuses`, delete them, their ledger and their logs. */
  async deleteJobs(jobIds: string[], statuses: string[]): Promise<number> {
    if (!jobIds.length) return 0;
    return this.db.transaction((tx) =>
      keepingEndedCounts(tx, jobIds, async () => {
        const ids: string[] = (await tx.query(lockDeletable(jobIds, statuses))).map((r) => r.job_id);
        if (!ids.length) return 0;
        await tx.run(deleteAttempts(ids));
        await tx.run(deleteLogs(ids));
        return tx.run(deleteJobs(ids));
      }),
    );
  }
}
