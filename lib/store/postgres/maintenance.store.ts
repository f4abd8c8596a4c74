import type { MaintenanceStore } from '../job-store.interface.js';
import type { PostgresConnection } from './postgres.connection.js';
import { deleteJobs, prunableJobs, pruneFinished } from './maintenance.sql.js';
import { keepingEndedCounts } from './ended-counts.js';

export class PostgresMaintenanceStore implements MaintenanceStore {
  constructor(private readonly db: PostgresConnection) {}

  async prunableJobs(olderThanDays: number, limit: number): Promise<string[]> {
    return (await this.db.query(prunableJobs(olderThanDays, limit))).map((r) => r.job_id);
  }

  async pruneFinished(jobIds: string[], olderThanDays: number): Promise<number> {
    if (!jobIds.length) return 0;
    return this.db.transaction(async (query) => {
      const [row] = await keepingEndedCounts(query, jobIds, () => query(pruneFinished(jobIds, olderThanDays)));
      return row.pruned;
    });
  }

  async deleteJobs(jobIds: string[], statuses: string[]): Promise<number> {
    if (!jobIds.length) return 0;
    return this.db.transaction(async (query) => {
      const [row] = await keepingEndedCounts(query, jobIds, () => query(deleteJobs(jobIds, statuses)));
      return row.deleted;
    });
  }
}
