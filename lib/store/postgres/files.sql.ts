/** Files of runs (PostgreSQL). */
import type { NewFile, RunRef } from '../job-store.interface.js';
import { utcText } from '../row-mapper.js';
import { NOW, type Sql } from './common.sql.js';

export function insertFile(run: RunRef, file: NewFile): Sql {
  return {
    text: `INSERT INTO managed_job_files (job_file_id, job_id, filename, path, mime_type, size_bytes, expires_at, created_at)
      SELECT $3, job_id, $4, $5, $6, $7, COALESCE($8::timestamp, ${NOW} + make_interval(days => $9::int)), ${NOW}
      FROM managed_jobs WHERE job_id = $1 AND fence = $2 AND status = 'running'
      RETURNING *`,
    values: [
      run.jobId,
      run.fence,
      file.jobFileId,
      file.filename,
      file.path,
      file.mimeType,
      file.sizeBytes,
      file.expiresAt ? utcText(file.expiresAt) : null,
      file.expiryDays,
    ],
  };
}

export function listFiles(jobId: string, includeExpired: boolean): Sql {
  return {
    text: `SELECT * FROM managed_job_files WHERE job_id = $1 AND deleted_at IS NULL
      ${includeExpired ? '' : `AND expires_at > ${NOW}`} ORDER BY created_at, job_file_id`,
    values: [jobId],
  };
}

export function findFile(jobId: string, fileId: string): Sql {
  return {
    text: `SELECT * FROM managed_job_files WHERE job_id = $1 AND job_file_id = $2 AND deleted_at IS NULL AND expires_at > ${NOW}`,
    values: [jobId, fileId],
  };
}

export function expiredFiles(limit: number): Sql {
  return {
    text: `SELECT * FROM managed_job_files WHERE deleted_at IS NULL AND expires_at <= ${NOW} ORDER BY expires_at LIMIT $1`,
    values: [limit],
  };
}

export function markFilesDeleted(fileIds: string[]): Sql {
  return {
    text: `UPDATE managed_job_files SET deleted_at = ${NOW} WHERE job_file_id = ANY($1::uuid[]) AND deleted_at IS NULL`,
    values: [fileIds],
  };
}

export function filesOfJobs(jobIds: string[]): Sql {
  return {
    text: `SELECT * FROM managed_job_files WHERE job_id = ANY($1::uuid[]) AND deleted_at IS NULL`,
    values: [jobIds],
  };
}
