import type { MaintenanceStore } from '../job-store.interface.js';
import type { SqliteConnection } from './sqlite.connection.js';
import { deleteAttempts, deleteJob, deleteLogs, prunableJobs, pruneFinished } from './maintenance.sql.js';
import { keepingEndedCounts } from './ended-counts.js';

export class SqliteMaintenanceStore implements MaintenanceStore {
  constructor(private readonly db: SqliteConnection) {}

  async prunableJobs(olderThanDays: number, limit: number): Promise<string[]> {
    return this.db.all(prunableJobs(olderThanDays, limit)).map((r) => r.job_id);
  }

  async pruneFinished(jobIds: string[], olderThanDays: number): Promise<number> {
    return this.db.write(() =>
      keepingEndedCounts(this.db, jobIds, () =>
        jobIds.reduce((n, id) => {
          if (!this.db.run(pruneFinished(id, olderThanDays))) return n;
          this.db.run(deleteAttempts(id));
          this.db.run(deleteLogs(id));
          return n + 1;
        }, 0),
      ),
    );
  }

  async deleteJobs(jobIds: string[], statuses: string[]): Promise<number> {
    if (!jobIds.length) return 0;
    return this.db.write(() =>
      keepingEndedCounts(this.db, jobIds, () =>
        jobIds.reduce((n, id) => {
          if (!this.db.run(deleteJob(id, statuses))) return n;
          this.db.run(deleteAttempts(id));
          this.db.run(deleteLogs(id));
          return n + 1;
        }, 0),
      ),
    );
  }
}
