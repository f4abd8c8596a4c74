import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ManagedJobEntity } from './managed-job.entity.js';
import { TimestampColumn } from './timestamp.column.js';

/** How a run ended, as recorded in the attempts ledger. */
export type AttemptOutcome = 'completed' | 'failed' | 'retrying' | 'stopped' | 'released' | 'lost' | 'timeout';

/**
 * The attempts ledger: one row per claim, so any run can be audited afterwards. Every claim takes
 * a new fence, so `(job_id, fence)` identifies a run.
 */
@Entity('managed_job_attempts')
export class ManagedJobAttemptEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid', primaryKeyConstraintName: 'pk_managed_job_attempts' })
  jobId!: string;

  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'pk_managed_job_attempts' })
  fence!: number;

  /** The job's `attempts` counter for this run (1 on the first run). */
  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ name: 'worker_id', type: 'varchar', length: 255 })
  workerId!: string;

  @TimestampColumn({ name: 'started_at' })
  startedAt!: Date;

  @TimestampColumn({ name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  /** Null while the run is in progress. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  outcome!: AttemptOutcome | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @ManyToOne(() => ManagedJobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', referencedColumnName: 'jobId', foreignKeyConstraintName: 'fk_managed_job_attempts_job' })
  job?: ManagedJobEntity;
}
