import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JOB_STORE, RESOLVED_OPTIONS, STORAGE_DRIVER } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { JobStore } from '../store/job-store.interface.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import { removeStoredFiles } from '../files/file-removal.js';

/** Finished jobs are pruned this many at a time. */
export const PRUNE_BATCH_SIZE = 200;

/**
 * After each batch the prune rests this many times as long as the batch took, so that it takes at
 * most a quarter of the database (and, on SQLite, of the event loop, which its synchronous batches
 * would otherwise hold from the first to the last). Measured with the bench's prune-under-load
 * scenario (`node bench/run.mjs --quick --only=pruneLoad`): without the rest, a worker draining
 * beside a prune of 100,000 jobs on SQLite kept 0.15× of its rate; resting twice as long as the
 * batch, 0.66× (PostgreSQL 0.86×).
 */
const PRUNE_REST_FACTOR = 3;

/** The longest rest between two batches, however slow the last one was. */
const PRUNE_MAX_REST_MS = 1000;

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
   * deleted from storage first, then the records (their files, steps, attempts and logs go with them). Batches
   * of `PRUNE_BATCH_SIZE` rest between them (see `PRUNE_REST_FACTOR`), so a worker beside it keeps most of its rate. A job whose
   * file could not be deleted is kept for the next run. Returns how many jobs were deleted.
   */
  async pruneFinished(olderThanDays: number | null = this.options.retentionDays): Promise<number> {
    if (olderThanDays === null || olderThanDays === undefined) return 0;
    if (!Number.isInteger(olderThanDays) || olderThanDays < 0) throw new RangeError(`olderThanDays must be an integer ≥ 0; got ${olderThanDays}.`);
    let pruned = 0;
    for (;;) {
      const startedAt = Date.now();
      const jobIds = await this.store.prunableJobs(olderThanDays, PRUNE_BATCH_SIZE);
      if (!jobIds.length) return pruned;
      const files = await this.store.filesOfJobs(jobIds);
      const removed = new Set(await removeStoredFiles(this.storage, files, this.logger));
      const blocked = new Set(files.filter((f) => !removed.has(f.jobFileId)).map((f) => f.jobId));
      const deletable = jobIds.filter((id) => !blocked.has(id));
      if (deletable.length) pruned += await this.store.pruneFinished(deletable, olderThanDays);
      if (jobIds.length < PRUNE_BATCH_SIZE || !deletable.length) return pruned;
      await sleep(Math.min(PRUNE_MAX_REST_MS, (Date.now() - startedAt) * PRUNE_REST_FACTOR));
    }
  }
}
