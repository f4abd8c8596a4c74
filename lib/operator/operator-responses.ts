/**
 * The operator API's JSON: dates as ISO strings, camelCase, no storage paths, no lease internals
 * beyond the worker that holds a running job. Documented in the README ("Operating it").
 */
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { toFileResponse, toJobResponse, type JobFileResponse, type JobResponse } from '../http/job-responses.js';
import type { JobDetails } from './operator.types.js';

export interface OperatorJobResponse extends JobResponse {
  priority: number;
  /** The worker running it (running jobs only). */
  workerId: string | null;
}

export function toOperatorJob(job: ManagedJobEntity): OperatorJobResponse {
  return { ...toJobResponse(job), priority: job.priority, workerId: job.status === 'running' ? job.leaseOwner : null };
}

export function toJobDetails(details: JobDetails): Omit<JobDetails, 'job' | 'files'> & { job: OperatorJobResponse; files: JobFileResponse[] } {
  return { ...details, job: toOperatorJob(details.job), files: details.files.map(toFileResponse) };
}
