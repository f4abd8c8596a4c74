/**
 * `JobRunnerService.waitFor` and `drain`.
 *
 * waitFor wakes on the job's end event: at once when the job ends in this process (the events
 * publisher), and for a job run by another process by a gentle poll of the job row that starts at
 * `FIRST_POLL_MS` and slows to `MAX_POLL_MS` (one primary-key read per step; never a tight loop).
 * drain counts the due and running jobs of this process's worker queues, woken the same way.
 */
import { Inject, Injectable } from '@nestjs/common';
import { JOB_STORE, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import { DRAIN_TIMED_OUT, WAIT_TIMED_OUT } from '../managed-jobs.messages.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { JobStatus } from '../enums/job-status.enum.js';
import { JobNotFoundError, ManagedJobsError } from '../errors/managed-jobs.errors.js';
import { JobEventsPublisher } from '../events/job-events.publisher.js';
import { ManagedJobEvents } from '../events/managed-job.events.js';
import { isJobId } from '../services/job-scope.js';
import type { JobStore } from '../store/job-store.interface.js';
import { OperatorStore } from './operator.store.js';

const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 250;
const ENDED = new Set<string>([JobStatus.Completed, JobStatus.Failed, JobStatus.Stopped]);
const END_EVENTS = new Set<string>([ManagedJobEvents.Completed, ManagedJobEvents.Failed, ManagedJobEvents.Stopped]);

/** Thrown by `waitFor` and `drain` when their `timeoutMs` passes first. */
export class JobWaitTimeoutError extends ManagedJobsError {}

@Injectable()
export class JobWaiter {
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    private readonly db: OperatorStore,
    private readonly events: JobEventsPublisher,
  ) {}

  async waitFor(jobId: string, timeoutMs = Infinity): Promise<ManagedJobEntity> {
    if (!isJobId(jobId)) throw new JobNotFoundError(String(jobId));
    const result = await this.until(
      async () => {
        const job = await this.store.find(jobId);
        if (!job) throw new JobNotFoundError(jobId);
        return ENDED.has(job.status) ? job : null;
      },
      (event) => event.job.jobId === jobId,
      timeoutMs,
    );
    if (!result) throw new JobWaitTimeoutError(WAIT_TIMED_OUT(jobId, timeoutMs));
    return result;
  }

  async drain(timeoutMs = Infinity): Promise<void> {
    const queues = this.options.worker.queues;
    const done = await this.until(
      async () => {
        const row = await this.db.one<{ n: unknown }>(this.db.sql.busy(queues));
        return Number(row?.n ?? 0) === 0 ? true : null;
      },
      () => true,
      timeoutMs,
    );
    if (!done) throw new JobWaitTimeoutError(DRAIN_TIMED_OUT(timeoutMs));
  }

  /** Checks `check` now, on every matching end event of this process, and on a slowing poll; null on timeout. */
  private until<T>(check: () => Promise<T | null>, matches: (event: { job: ManagedJobEntity }) => boolean, timeoutMs: number): Promise<T | null> {
    return new Promise<T | null>((resolve, reject) => {
      let settled = false;
      let checking: Promise<void> | undefined;
      let again = false;
      let delay = FIRST_POLL_MS;
      let poll: NodeJS.Timeout | undefined;
      const deadline = Number.isFinite(timeoutMs) ? setTimeout(() => finish(null), Math.max(0, timeoutMs)) : undefined;
      const unsubscribe = this.events.subscribe((event) => {
        if (END_EVENTS.has(event.name) && matches(event)) run();
      });
      const finish = (value: T | null, error?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(poll);
        unsubscribe();
        if (error) reject(error);
        else resolve(value);
      };
      const schedule = () => {
        if (settled) return;
        clearTimeout(poll);
        poll = setTimeout(run, delay);
        delay = Math.min(MAX_POLL_MS, Math.round(delay * 1.5));
      };
      const run = () => {
        if (settled) return;
        if (checking) {
          again = true;
          return;
        }
        checking = check().then(
          (value) => {
            checking = undefined;
            if (value !== null) return finish(value);
            if (again) {
              again = false;
              return run();
            }
            schedule();
          },
          (error) => {
            checking = undefined;
            finish(null, error);
          },
        );
      };
      run();
    });
  }
}
