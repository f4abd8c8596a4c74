import type { ManagedJobFileEntity } from '../../entities/managed-job-file.entity.js';
import type { FileStore, NewFile, RunRef } from '../job-store.interface.js';
import { toFile } from '../row-mapper.js';
import type { PostgresConnection } from './postgres.connection.js';
import { expiredFiles, filesOfJobs, findFile, insertFile, listFiles, markFilesDeleted } from './files.sql.js';

export class PostgresFileStore implements FileStore {
  constructor(private readonly db: PostgresConnection) {}

  async addFile(run: RunRef, file: NewFile): Promise<ManagedJobFileEntity | null> {
    const [row] = await this.db.query(insertFile(run, file));
    return row ? toFile(row) : null;
  }

  async listFiles(jobId: string, includeExpired = false): Promise<ManagedJobFileEntity[]> {
    return (await this.db.query(listFiles(jobId, includeExpired))).map(toFile);
  }

  async findFile(jobId: string, fileId: string): Promise<ManagedJobFileEntity | null> {
    const [row] = await this.db.query(findFile(jobId, fileId));
    return row ? toFile(row) : null;
  }

  async expiredFiles(limit: number): Promise<ManagedJobFileEntity[]> {
    return (await this.db.query(expiredFiles(limit))).map(toFile);
  }

  async markFilesDeleted(fileIds: string[]): Promise<number> {
    return this.db.rowCount(markFilesDeleted(fileIds));
  }

  async filesOfJobs(jobIds: string[]): Promise<ManagedJobFileEntity[]> {
    return jobIds.length ? (await this.db.query(filesOfJobs(jobIds))).map(toFile) : [];
  }
}
