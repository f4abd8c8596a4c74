import { Inject, Injectable, Logger } from '@nestjs/common';
import { JOB_STORE, RESOLVED_OPTIONS, STORAGE_DRIVER } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { JobStore } from '../store/job-store.interface.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import { removeStoredFiles } from '../files/file-removal.js';

/** Finished jobs are pruned this many at a time. */
export const PRUNE_BATCH_SIZE = 200;

/** Keeps the tables bounded: deletes finished jobs older than `retentionDays`, files first. */
@Injectable()
export class ManagedJobsMaintenanceService {
  private readonly logger = new Logger('ManagedJobs');

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
  ) {}

  /**
   * Delete jobs that finished (completed, failed or stopped) more than `olderThanDays` days ago,
   * default the `retentionDays` option; does nothing when neither is set. Their stored files are
   * deleted from storage first, then the records (files, steps and attempts cascade). A job whose
   * file could not be deleted is kept for the next run. Returns how many jobs were deleted.
   */
  async pruneFinished(olderThanDays: number | null = this.options.retentionDays): Promise<number> {
    if (olderThanDays === null || olderThanDays === undefined) return 0;
    if (!Number.isInteger(olderThanDays) || olderThanDays < 0) throw new RangeError(`olderThanDays must be an integer ≥ 0; got ${olderThanDays}.`);
    let pruned = 0;
    for (;;) {
      const jobIds = await this.store.prunableJobs(olderThanDays, PRUNE_BATCH_SIZE);
      if (!jobIds.length) return pruned;
      const files = await this.store.filesOfJobs(jobIds);
      const removed = new Set(await removeStoredFiles(this.storage, files, this.logger));
      const blocked = new Set(files.filter((f) => !removed.has(f.jobFileId)).map((f) => f.jobId));
      const deletable = jobIds.filter((id) => !blocked.has(id));
      if (deletable.length) pruned += await this.store.pruneFinished(deletable, olderThanDays);
      if (jobIds.length < PRUNE_BATCH_SIZE || !deletable.length) return pruned;
    }
  }
}
