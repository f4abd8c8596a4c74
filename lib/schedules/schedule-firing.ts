/**
 * Fires one due schedule: the compare-and-set on its row and the insert of its job(s) commit in
 * ONE transaction, so whichever process wins the row dispatches, and the others' compare-and-set
 * matches nothing (on PostgreSQL they wait on the row lock, then see the moved `next_run_at`).
 */
import { Logger } from '@nestjs/common';
import { JobStatus } from '../enums/job-status.enum.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { JobRunnerService } from '../services/job-runner.service.js';
import { SCHEDULE_FIRE_FAILED } from '../managed-jobs.messages.js';
import type { CronSchedule } from './cron.js';
import { planFiring } from './fire-plan.js';
import { payloadOf, type ScheduleRow } from './schedule-row.js';
import type { ScheduleStore } from './schedule.store.js';
import { fromUtcText, toUtcText } from './utc-text.js';
import type { ScheduleCatchUp } from '../interfaces/schedule-options.interface.js';

const ACTIVE = new Set<string>([JobStatus.Pending, JobStatus.Running]);

/** Returns the jobs this process dispatched (empty when it skipped, or another process won). */
export async function fireSchedule(
  row: ScheduleRow,
  cron: CronSchedule,
  store: ScheduleStore,
  runner: JobRunnerService,
  logger: Logger,
): Promise<ManagedJobEntity[]> {
  const due = fromUtcText(row.next_run_at)!;
  const now = fromUtcText(row.db_now)!;
  const skipOverlap = row.overlap === 'skip';
  const plan = planFiring(cron, due, now, row.catch_up as ScheduleCatchUp, skipOverlap);
  const next = toUtcText(plan.next);
  let occurrences = plan.occurrences;
  if (occurrences.length && skipOverlap && row.last_job_id) {
    const previous = await runner.find(row.last_job_id);
    if (previous && ACTIVE.has(previous.status)) occurrences = [];
  }
  if (!occurrences.length) {
    await store.rows(store.sql.advance(row.name, row.next_run_at!, next, null));
    return [];
  }
  const payload = payloadOf(row);
  const owner = { ownerId: row.owner_user_id, tenantId: row.owner_tenant_id };
  try {
    return await store.transaction(async (manager) => {
      const moved = await store.one(store.sql.advance(row.name, row.next_run_at!, next, toUtcText(occurrences[occurrences.length - 1])), manager);
      if (!moved) return [];
      const jobs =
        occurrences.length === 1
          ? [await runner.dispatch(row.job_type, payload, { ...owner, manager })]
          : await runner.dispatchMany(row.job_type, occurrences.map(() => ({ payload, options: owner })), manager);
      await store.rows(store.sql.setLastJob(row.name, jobs[jobs.length - 1].jobId, false), manager);
      return jobs;
    });
  } catch (error) {
    // A job that cannot be dispatched (its payload no longer validates, say) must not stall the
    // ticker on this row: the occurrence is skipped, loudly.
    logger.error(SCHEDULE_FIRE_FAILED(row.name, (error as Error)?.message ?? String(error)), (error as Error)?.stack);
    await store.rows(store.sql.advance(row.name, row.next_run_at!, next, null));
    return [];
  }
}
