/** Files of runs (MySQL/MariaDB). */
import type { NewFile, RunRef } from '../job-store.interface.js';
import { utcText } from '../row-mapper.js';
import { NOW, placeholders, type Sql } from './common.sql.js';

/** Recorded only while the run still owns the job; read back by `findFileRow` (no RETURNING). */
const INSERT_FILE = `INSERT INTO managed_job_files (job_file_id, job_id, filename, path, mime_type, size_bytes, expires_at, created_at)
  SELECT ?, job_id, ?, ?, ?, ?, COALESCE(?, ${NOW} + INTERVAL ? DAY), ${NOW}
  FROM managed_jobs WHERE job_id = ? AND fence = ? AND status = 'running'`;

export function insertFile(run: RunRef, file: NewFile): Sql {
  return {
    text: INSERT_FILE,
    values: [
      file.jobFileId,
      file.filename,
      file.path,
      file.mimeType,
      file.sizeBytes,
      file.expiresAt ? utcText(file.expiresAt) : null,
      file.expiryDays,
      run.jobId,
      run.fence,
    ],
  };
}

/** One file by id, whatever its state. */
export function fileById(fileId: string): Sql {
  return { text: `SELECT * FROM managed_job_files WHERE job_file_id = ?`, values: [fileId] };
}

const LIST_FILES = `SELECT * FROM managed_job_files WHERE job_id = ? AND deleted_at IS NULL AND expires_at > ${NOW} ORDER BY created_at, job_file_id`;
const LIST_ALL_FILES = `SELECT * FROM managed_job_files WHERE job_id = ? AND deleted_at IS NULL ORDER BY created_at, job_file_id`;

export function listFiles(jobId: string, includeExpired: boolean): Sql {
  return { text: includeExpired ? LIST_ALL_FILES : LIST_FILES, values: [jobId] };
}

const FIND_FILE = `SELECT * FROM managed_job_files WHERE job_id = ? AND job_file_id = ? AND deleted_at IS NULL AND expires_at > ${NOW}`;

export function findFile(jobId: string, fileId: string): Sql {
  return { text: FIND_FILE, values: [jobId, fileId] };
}

const EXPIRED_FILES = `SELECT * FROM managed_job_files WHERE deleted_at IS NULL AND expires_at <= ${NOW} ORDER BY expires_at LIMIT ?`;

export function expiredFiles(limit: number): Sql {
  return { text: EXPIRED_FILES, values: [limit] };
}

export function markFilesDeleted(fileIds: string[]): Sql {
  return {
    text: `UPDATE managed_job_files SET deleted_at = ${NOW} WHERE job_file_id IN (${placeholders(fileIds.length)}) AND deleted_at IS NULL`,
    values: fileIds,
  };
}

export function filesOfJobs(jobIds: string[]): Sql {
  return { text: `SELECT * FROM managed_job_files WHERE job_id IN (${placeholders(jobIds.length)}) AND deleted_at IS NULL`, values: jobIds };
}
