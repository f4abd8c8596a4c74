import type { EntityManager } from 'typeorm';
import type { JobStatus } from '../enums/job-status.enum.js';
import type { JobOwnerLike, OwnerRef } from './job-owner.interface.js';

export interface DispatchOptions extends OwnerRef {
  /** Who asked for it when not the owner (an admin acting for a user). */
  triggeredBy?: JobOwnerLike | string | number | null;
  /** Overrides the job's and the module's queue. */
  queue?: string;
  /** Higher runs first. @default the job's `priority`, else 0 */
  priority?: number;
  /** Run no sooner than this many milliseconds from now (database clock). */
  delayMs?: number;
  /** Run no sooner than this moment. */
  availableAt?: Date;
  /**
   * Insert through this TypeORM `EntityManager`, inside the caller's transaction: the job exists
   * (and runs) only if that transaction commits.
   */
  manager?: EntityManager;
  /**
   * The unique key of this dispatch (see `@ManagedJob({ unique })`): while a job of the same type
   * holds it, nothing is written and that job is returned. Given for a job without `unique`, it
   * makes this dispatch unique (until finished). A non-empty string of at most 255 characters.
   * @default the job's `unique.key(payload)`, else the job type alone (for unique jobs)
   */
  uniqueKey?: string;
}

export interface ListJobsQuery extends OwnerRef {
  status?: JobStatus | JobStatus[];
  type?: string;
  /** Only the members of this batch. */
  batchId?: string;
  /** 1-based. @default 1 */
  page?: number;
  /** @default 20, at most 100 */
  limit?: number;
}

export interface Page<T> {
  data: T[];
  meta: { page: number; limit: number; total: number };
}
