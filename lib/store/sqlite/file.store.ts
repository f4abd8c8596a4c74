import type { ManagedJobFileEntity } from '../../entities/managed-job-file.entity.js';
import type { FileStore, NewFile, RunRef } from '../job-store.interface.js';
import { toFile } from '../row-mapper.js';
import type { SqliteConnection } from './sqlite.connection.js';
import { expiredFiles, filesOfJob, findFile, insertFile, listFiles, markFileDeleted } from './files.sql.js';

export class SqliteFileStore implements FileStore {
  constructor(private readonly db: SqliteConnection) {}

  async addFile(run: RunRef, file: NewFile): Promise<ManagedJobFileEntity | null> {
    const row = await this.db.write(() => this.db.get(insertFile(run, file)));
    return row ? toFile(row) : null;
  }

  async listFiles(jobId: string, includeExpired = false): Promise<ManagedJobFileEntity[]> {
    return this.db.all(listFiles(jobId, includeExpired)).map(toFile);
  }

  async findFile(jobId: string, fileId: string): Promise<ManagedJobFileEntity | null> {
    const row = this.db.get(findFile(jobId, fileId));
    return row ? toFile(row) : null;
  }

  async expiredFiles(limit: number): Promise<ManagedJobFileEntity[]> {
    return this.db.all(expiredFiles(limit)).map(toFile);
  }

  async markFilesDeleted(fileIds: string[]): Promise<number> {
    return this.db.write(() => fileIds.reduce((n, id) => n + this.db.run(markFileDeleted(id)), 0));
  }

  async filesOfJobs(jobIds: string[]): Promise<ManagedJobFileEntity[]> {
    return jobIds.flatMap((id) => this.db.all(filesOfJob(id)).map(toFile));
  }
}
