/** Files of runs (SQLite). */
import type { NewFile, RunRef } from '../job-store.interface.js';
import { utcText } from '../row-mapper.js';
import { NOW, type Sql } from './common.sql.js';

const INSERT_FILE = `INSERT INTO managed_job_files (job_file_id, job_id, filename, path, mime_type, size_bytes, expires_at, created_at)
  SELECT ?, job_id, ?, ?, ?, ?, COALESCE(?, strftime('%Y-%m-%d %H:%M:%f', 'now', printf('+%d days', ?))), ${NOW}
  FROM managed_jobs WHERE job_id = ? AND fence = ? AND status = 'running'
  RETURNING *`;

/** Recorded only while the run still owns the job. */
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

const LIST_FILES = `SELECT * FROM managed_job_files WHERE job_id = ? AND deleted_at IS NULL AND expires_at > ${NOW}
  ORDER BY created_at, job_file_id`;
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

const MARK_FILE_DELETED = `UPDATE managed_job_files SET deleted_at = ${NOW} WHERE job_file_id = ? AND deleted_at IS NULL`;

/** One file (a batch is a loop of these in one transaction). */
export function markFileDeleted(fileId: string): Sql {
  return { text: MARK_FILE_DELETED, values: [fileId] };
}

const FILES_OF_JOB = `SELECT * FROM managed_job_files WHERE job_id = ? AND deleted_at IS NULL`;

/** The not yet deleted files of one job. */
export function filesOfJob(jobId: string): Sql {
  return { text: FILES_OF_JOB, values: [jobId] };
}
