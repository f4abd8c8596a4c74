import type { ManagedJobFileEntity } from '../../entities/managed-job-file.entity.js';
import type { FileStore, NewFile, RunRef } from '../job-store.interface.js';
import { toFile } from '../row-mapper.js';
import { expiredFiles, fileById, filesOfJobs, findFile, insertFile, listFiles, markFilesDeleted } from './files.sql.js';
import type { MysqlConnection } from './mysql.connection.js';

export class MysqlFileStore implements FileStore {
  constructor(private readonly db: MysqlConnection) {}

  async addFile(run: RunRef, file: NewFile): Promise<ManagedJobFileEntity | null> {
    if (!(await this.db.run(insertFile(run, file)))) return null;
    const [row] = await this.db.query(fileById(file.jobFileId));
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
    return fileIds.length ? this.db.run(markFilesDeleted(fileIds)) : 0;
  }

  async filesOfJobs(jobIds: string[]): Promise<ManagedJobFileEntity[]> {
    return jobIds.length ? (await this.db.query(filesOfJobs(jobIds))).map(toFile) : [];
  }
}
