import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { JOB_STORE, STORAGE_DRIVER } from '../managed-jobs.constants.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import { JobFileNotFoundError, JobNotFoundError } from '../errors/managed-jobs.errors.js';
import type { JobScope } from '../interfaces/job-owner.interface.js';
import { JobRunnerService } from '../services/job-runner.service.js';
import { isJobId } from '../services/job-scope.js';
import type { JobStore } from '../store/job-store.interface.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import { UnsafeFilePathError } from '../storage/unsafe-file-path.error.js';
import { attachmentDisposition, safeContentType } from '../http/content-disposition.js';
import { removeStoredFiles } from './file-removal.js';

/** Expired files are deleted this many at a time: one select, N unlinks, one update per batch. */
export const EXPIRY_BATCH_SIZE = 500;

/** An open download: the record and a stream of its bytes. */
export interface OpenedJobFile {
  file: ManagedJobFileEntity;
  stream: Readable;
  /** Bytes on storage, or null when the driver cannot tell. */
  size: number | null;
}

/** A download handed off to the storage: the record and a short-lived URL of its bytes. */
export interface JobFileRedirect {
  file: ManagedJobFileEntity;
  url: string;
}

/** Job files: list and open them for an owner, and expire them. */
@Injectable()
export class ManagedJobFilesService {
  private readonly logger = new Logger('ManagedJobs');

  constructor(
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly runner: JobRunnerService,
  ) {}

  /** The job's unexpired files; `JobNotFoundError` when the job is not in scope. */
  list(jobId: string, scope?: JobScope): Promise<ManagedJobFileEntity[]> {
    return this.runner.files(jobId, scope);
  }

  /**
   * Open an unexpired file of a job in scope. A missing job, file or stored file (or a path
   * that now leads outside the storage root) is a `JobNotFoundError` / `JobFileNotFoundError`.
   */
  async open(jobId: string, fileId: string, scope?: JobScope): Promise<OpenedJobFile> {
    return this.openRecord(await this.record(jobId, fileId, scope));
  }

  /**
   * What the bundled controller answers a download with: a short-lived URL to redirect to when
   * the driver hands downloads off (`S3StorageDriver` with `presign`), else the open file. The
   * same scope check and 404s as `open()`, before any URL is made.
   */
  async download(jobId: string, fileId: string, scope?: JobScope): Promise<OpenedJobFile | JobFileRedirect> {
    const file = await this.record(jobId, fileId, scope);
    if (this.storage.downloadUrl) {
      const headers = { contentType: safeContentType(file.mimeType), contentDisposition: attachmentDisposition(file.filename) };
      const url = await this.guard(file, () => this.storage.downloadUrl!(file.path, headers));
      if (url) return { file, url };
    }
    return this.openRecord(file);
  }

  /** The job's file record, after the scope check. */
  private async record(jobId: string, fileId: string, scope?: JobScope): Promise<ManagedJobFileEntity> {
    // Scope check only: one lookup of the job, not a listing of its files.
    if (!(await this.runner.find(jobId, scope))) throw new JobNotFoundError(String(jobId));
    const file = isJobId(fileId) ? await this.store.findFile(jobId, fileId) : null;
    if (!file) throw new JobFileNotFoundError(jobId, String(fileId));
    return file;
  }

  private async openRecord(file: ManagedJobFileEntity): Promise<OpenedJobFile> {
    const opened = await this.guard(file, async () => {
      if (this.storage.open) return this.storage.open(file.path);
      const stream = await this.storage.read(file.path);
      return stream && { stream, size: await this.storage.size(file.path).catch(() => null) };
    });
    if (!opened) throw new JobFileNotFoundError(file.jobId, file.jobFileId);
    return { file, ...opened };
  }

  /** A path that now leads outside the storage root is a 404 (and a warning), never a read. */
  private async guard<T>(file: ManagedJobFileEntity, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof UnsafeFilePathError) {
        this.logger.warn(`File ${file.jobFileId} of job ${file.jobId} points outside the storage root; refused.`);
        throw new JobFileNotFoundError(file.jobId, file.jobFileId);
      }
      throw error;
    }
  }

  /**
   * Delete the stored files whose `expires_at` has passed and soft-delete their records, in
   * batches of `EXPIRY_BATCH_SIZE`. Returns how many records were expired. Safe to run alongside
   * another run (each record is counted once); the daily schedule also makes sure it does not.
   */
  async expireFiles(): Promise<number> {
    let expired = 0;
    for (;;) {
      const batch = await this.store.expiredFiles(EXPIRY_BATCH_SIZE);
      if (!batch.length) return expired;
      const removed = await removeStoredFiles(this.storage, batch, this.logger);
      if (removed.length) expired += await this.store.markFilesDeleted(removed);
      // Files that could not be deleted stay first in line: stop rather than spin on them.
      if (batch.length < EXPIRY_BATCH_SIZE || removed.length === 0) return expired;
    }
  }
}
