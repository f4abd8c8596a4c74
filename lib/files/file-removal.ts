import { Logger } from '@nestjs/common';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import { UnsafeFilePathError } from '../storage/unsafe-file-path.error.js';

/** Physical deletes run this many at a time: enough to hide disk latency, few enough to be polite. */
const DELETE_CONCURRENCY = 16;

/**
 * Deletes the stored files of these records and returns the ids whose file is gone (deleted now,
 * already missing, or recorded with a path outside the storage root, which is never touched).
 * A file that cannot be deleted is logged and left out, so its record stays and is tried again.
 */
export async function removeStoredFiles(storage: StorageDriver, files: ManagedJobFileEntity[], logger: Logger): Promise<string[]> {
  const removed: string[] = [];
  for (let i = 0; i < files.length; i += DELETE_CONCURRENCY) {
    await Promise.all(
      files.slice(i, i + DELETE_CONCURRENCY).map(async (file) => {
        try {
          await storage.delete(file.path);
          removed.push(file.jobFileId);
        } catch (error) {
          if (error instanceof UnsafeFilePathError) {
            logger.warn(`File ${file.jobFileId} of job ${file.jobId} points outside the storage root; its record is dropped, nothing is deleted.`);
            removed.push(file.jobFileId);
          } else {
            logger.error(`Could not delete file ${file.jobFileId} of job ${file.jobId}: ${(error as Error)?.message ?? error}`);
          }
        }
      }),
    );
  }
  return removed;
}
