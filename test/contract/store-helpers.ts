/** Dialect-agnostic helpers of the store contract suite: rows to insert, claims, and reads through TypeORM. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { ManagedJobAttemptEntity, ManagedJobQueueEntity, ManagedJobEntity, ManagedJobFileEntity, ManagedJobLogEntity, ManagedJobStepEntity } from '../../lib/entities/index.js';
import { newJobId } from '../../lib/ids/job-id.js';
import type { ClaimRequest, Completion, Failure, NewFile, NewJob, RunRef } from '../../lib/store/job-store.interface.js';

export { sleep };

export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    jobId: newJobId(),
    type: 'contract',
    queue: 'default',
    priority: 0,
    payload: '{"n":1}',
    ownerUserId: null,
    ownerTenantId: null,
    triggeredByUserId: null,
    maxAttempts: 3,
    idempotent: true,
    availableAt: null,
    delayMs: 0,
    retryUntil: null,
    stoppable: true,
    ...overrides,
  };
}

export function claimOf(overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return { queue: 'default', types: ['contract'], limit: 10, workerId: 'worker-a', leaseMs: 60_000, ...overrides };
}

export const runOf = (job: { jobId: string; fence: number }): RunRef => ({ jobId: job.jobId, fence: job.fence });

export function completionOf(run: RunRef, result: unknown = { ok: true }): Completion {
  return { ...runOf(run), result: JSON.stringify(result), progress: 100, message: 'done' };
}

export function failureOf(run: RunRef, overrides: Partial<Failure> = {}): Failure {
  const reason = overrides.reason ?? 'boom';
  return { ...runOf(run), reason, error: reason, retryInSeconds: null, outcome: 'failed', progress: 40, message: 'half way', ...overrides };
}

export function newFile(jobId: string, overrides: Partial<NewFile> = {}): NewFile {
  return {
    jobFileId: newJobId(),
    jobId,
    filename: 'report.csv',
    path: `files/${jobId}/report.csv`,
    mimeType: 'text/csv',
    sizeBytes: 12,
    expiresAt: null,
    expiryDays: 7,
    ...overrides,
  };
}

/** A job's ledger rows, oldest run first. */
export function ledgerOf(ds: DataSource, jobId: string): Promise<ManagedJobAttemptEntity[]> {
  return ds.getRepository(ManagedJobAttemptEntity).find({ where: { jobId }, order: { fence: 'ASC' } });
}

/** The parts of a ledger row a test compares. */
export const ledgerSummary = (rows: ManagedJobAttemptEntity[]) =>
  rows.map((r) => ({ fence: r.fence, attempt: r.attempt, outcome: r.outcome, workerId: r.workerId, error: r.error }));

export async function countRows(ds: DataSource): Promise<Record<'jobs' | 'attempts' | 'steps' | 'files' | 'logs', number>> {
  return {
    jobs: await ds.getRepository(ManagedJobEntity).count(),
    attempts: await ds.getRepository(ManagedJobAttemptEntity).count(),
    steps: await ds.getRepository(ManagedJobStepEntity).count(),
    files: await ds.getRepository(ManagedJobFileEntity).count(),
    logs: await ds.getRepository(ManagedJobLogEntity).count(),
  };
}

/** Empties the store's tables between tests (the suite shares one database per dialect). */
export async function wipe(ds: DataSource): Promise<void> {
  for (const entity of [ManagedJobLogEntity, ManagedJobFileEntity, ManagedJobStepEntity, ManagedJobAttemptEntity, ManagedJobEntity, ManagedJobQueueEntity]) {
    await ds.createQueryBuilder().delete().from(entity).execute();
  }
  // Jobs deleted behind the store's back: the ended counts of stats() start again from nothing.
  await ds.query(`DELETE FROM managed_job_ended_counts`);
  await ds.query(`UPDATE managed_job_ended_mark SET watermark = '1970-01-01 00:00:00' WHERE id = 1`);
}

/** Seconds from now to `date` (negative in the past). */
export const secondsFromNow = (date: Date | null) => ((date?.getTime() ?? NaN) - Date.now()) / 1000;

/** A \`ctx.log\` line of the job, written as the operator's log writer does. */
export async function addLogLine(ds: DataSource, jobId: string): Promise<void> {
  await ds.getRepository(ManagedJobLogEntity).insert({ logId: newJobId(), jobId, at: new Date(), level: 'info', message: 'a line', data: null });
}
