import type { MaintenanceStore } from '../job-store.interface.js';
import type { PostgresConnection } from './postgres.connection.js';
import { prunableJobs, pruneFinished } from './maintenance.sql.js';

export class PostgresMaintenanceStore implements MaintenanceStore {
  constructor(private readonly db: PostgresConnection) {}

  async prunableJobs(olderThanDays: number, limit: number): Promise<string[]> {
    return (await this.db.query(prunableJobs(olderThanDays, limit))).map((r) => r.job_id);
  }

  async pruneFinished(jobIds: string[], olderThanDays: number): Promise<number> {
    if (!jobIds.length) return 0;
    const [row] = await this.db.query(pruneFinished(jobIds, olderThanDays));
    return row.pruned;
  }
}
