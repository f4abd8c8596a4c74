import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ManagedJobEntity } from './managed-job.entity.js';
import { TimestampColumn } from './timestamp.column.js';

/** How a run ended, as recorded in the attempts ledger. */
export type AttemptOutcome = 'completed' | 'failed' | 'retrying' | 'stopped' | 'released' | 'lost' | 'timeout';

/**
 * The attempts ledger: one row per run, so any run can be audited afterwards. Every claim takes a
 * new fence, so `(job_id, fence)` identifies a run. The row is written by whatever ends the run
 * (completion, failure, stop, shutdown hand-back, reaping), in the same statement; while a run is
 * in progress it is described by its job row (`fence`, `leaseOwner`, `startedAt`).
 *
 * There is no foreign key to `managed_jobs`: checking one costs a lookup per run on the hot path.
 * Pruning deletes a job's ledger rows with the job. On SQLite the table is `WITHOUT ROWID`: one
 * B-tree keyed by `(job_id, fence)` instead of a table and an index to write per run.
 */
@Entity('managed_job_attempts', { withoutRowid: true })
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

  @TimestampColumn({ name: 'finished_at' })
  finishedAt!: Date;

  @Column({ type: 'varchar', length: 16 })
  outcome!: AttemptOutcome;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @ManyToOne(() => ManagedJobEntity, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'job_id', referencedColumnName: 'jobId' })
  job?: ManagedJobEntity;
}
