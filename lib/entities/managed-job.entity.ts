import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JobStatus } from '../enums/job-status.enum.js';
import { JsonColumn } from './json.column.js';
import { TimestampColumn } from './timestamp.column.js';

/**
 * One background job and its whole life: the queue row and the user-facing record at once.
 *
 * Ids are UUIDv7 strings (`uuid` on PostgreSQL, text on SQLite): one type that works on every
 * dialect, cannot be enumerated, and still sorts by creation time. Owner ids are strings so apps
 * with numeric and UUID users both fit.
 *
 * The claim, lease and owner indexes are partial and ordered, which TypeORM cannot express; the
 * migrations create them and `synchronize: false` tells the schema builder to leave them alone.
 */
@Entity('managed_jobs')
@Index('idx_managed_jobs_claim', { synchronize: false })
@Index('idx_managed_jobs_lease', { synchronize: false })
@Index('idx_managed_jobs_owner', { synchronize: false })
@Index('idx_managed_jobs_tenant', { synchronize: false })
@Index('idx_managed_jobs_finished', { synchronize: false })
@Index('idx_managed_jobs_failed', { synchronize: false })
@Index('idx_managed_jobs_unique', { synchronize: false })
@Index('idx_managed_jobs_ckey', { synchronize: false })
@Index('idx_managed_jobs_ckey_running', { synchronize: false })
@Index('idx_managed_jobs_rkey', { synchronize: false })
@Index('idx_managed_jobs_batch', { synchronize: false })
/** `P` and `R` type `payload` and `result` when known (`dispatch(JobClass, …)`, `find<JobClass>()`). */
export class ManagedJobEntity<P = unknown, R = unknown> {
  /** A UUIDv7 made by the library: unguessable, and ordered by creation time (FIFO within a priority). */
  @PrimaryColumn({ name: 'job_id', type: 'uuid', primaryKeyConstraintName: 'pk_managed_jobs' })
  jobId!: string;

  /** The job's registered name (`@ManagedJob({ name })`). */
  @Column({ type: 'varchar', length: 255 })
  type!: string;

  @Column({ type: 'varchar', length: 255, default: 'default' })
  queue!: string;

  @Column({ type: 'varchar', length: 16, default: JobStatus.Pending })
  status!: JobStatus;

  /** Higher runs first. */
  @Column({ type: 'integer', default: 0 })
  priority!: number;

  @JsonColumn({ nullable: true })
  payload!: P;

  /** The checkpoint written by `ctx.saveState()`; kept across retries. */
  @JsonColumn({ nullable: true })
  state!: Record<string, unknown> | null;

  /** What `handle()` returned. */
  @JsonColumn({ nullable: true })
  result!: R | null;

  @Column({ name: 'progress_percentage', type: 'smallint', default: 0 })
  progressPercentage!: number;

  @Column({ name: 'progress_message', type: 'text', nullable: true })
  progressMessage!: string | null;

  @Column({ name: 'owner_user_id', type: 'varchar', length: 255, nullable: true })
  ownerUserId!: string | null;

  @Column({ name: 'owner_tenant_id', type: 'varchar', length: 255, nullable: true })
  ownerTenantId!: string | null;

  @Column({ name: 'triggered_by_user_id', type: 'varchar', length: 255, nullable: true })
  triggeredByUserId!: string | null;

  /** Runs started so far (1 during the first run). */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'max_attempts', type: 'integer', default: 1 })
  maxAttempts!: number;

  /** Whether a run cut short by a lost worker may be re-run automatically. */
  @Column({ type: 'boolean', default: true })
  idempotent!: boolean;

  @TimestampColumn({ name: 'available_at' })
  availableAt!: Date;

  @Column({ name: 'lease_owner', type: 'varchar', length: 255, nullable: true })
  leaseOwner!: string | null;

  @TimestampColumn({ name: 'lease_expires_at', nullable: true })
  leaseExpiresAt!: Date | null;

  /** Bumped by every claim; every write of a running worker names it. */
  @Column({ type: 'integer', default: 0 })
  fence!: number;

  @Column({ name: 'failed_reason', type: 'text', nullable: true })
  failedReason!: string | null;

  @TimestampColumn({ name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @TimestampColumn({ name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt!: Date;

  /** From the job's `retryUntil()` at dispatch: until then a failing run is retried whatever `maxAttempts` says. */
  @TimestampColumn({ name: 'retry_until', nullable: true })
  retryUntil!: Date | null;

  /** Whether `stop()` may stop the job (`@ManagedJob({ stoppable })`); a run may also refuse stops with `ctx.disableStop()`. */
  @Column({ type: 'boolean', default: true })
  stoppable!: boolean;

  /**
   * The fence of the run that called `ctx.disableStop()`: while that run is running, `stop()` is
   * refused. Internal (not read into records): a later run has another fence.
   */
  @Column({ name: 'stop_disabled_fence', type: 'integer', nullable: true, select: false })
  stopDisabledFence?: number | null;
  /**
   * The W3C trace context of the dispatch (`traceparent`/`tracestate` as JSON), written when
   * OpenTelemetry is on, so each run continues the dispatching trace in whichever process runs it.
   */
  @Column({ name: 'trace_context', type: 'text', nullable: true })
  traceContext!: string | null;

  /** The unique key it was dispatched with (`@ManagedJob({ unique })`, `dispatch(…, { uniqueKey })`), else null. */
  @Column({ name: 'unique_key', type: 'varchar', length: 255, nullable: true })
  uniqueKey!: string | null;

  /** How long it holds `uniqueKey`: `'started'` or `'finished'`; null without one. */
  @Column({ name: 'unique_until', type: 'varchar', length: 16, nullable: true })
  uniqueUntil!: string | null;

  /** Its concurrency key (`@ManagedJob({ concurrency })`), else null. */
  @Column({ name: 'concurrency_key', type: 'varchar', length: 255, nullable: true })
  concurrencyKey!: string | null;

  /** Its rate-limit key (`@ManagedJob({ rateLimit })`), else null. */
  @Column({ name: 'rate_key', type: 'varchar', length: 255, nullable: true })
  rateKey!: string | null;

  /** The batch this job is a member of (`jobRunner.batch()` / `chain()`), else null. */
  @Column({ name: 'batch_id', type: 'uuid', nullable: true })
  batchId!: string | null;

  /** Its `key` in the batch (what `dependsOn` names), else null. */
  @Column({ name: 'batch_key', type: 'varchar', length: 255, nullable: true })
  batchKey!: string | null;

  /** The failed member whose failure stopped this one (revived when that member is retried). Internal. */
  @Column({ name: 'batch_stopped_by', type: 'uuid', nullable: true, select: false })
  batchStoppedBy?: string | null;

  /** The batch whose `then` / `catch` / `finally` job this is (not a member), else null. */
  @Column({ name: 'callback_batch_id', type: 'uuid', nullable: true })
  callbackBatchId!: string | null;
}
