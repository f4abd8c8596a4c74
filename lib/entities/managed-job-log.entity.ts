import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn } from './json.column.js';
import { TimestampColumn } from './timestamp.column.js';

/**
 * Lines a handler wrote with `ctx.log` (the last 1,000 per job are kept). Written in batches by
 * the run's log writer, never one statement per line. Like the attempts ledger, there is no
 * foreign key (a lookup per batch); the rows go with their job when it is deleted or pruned.
 */
@Entity('managed_job_logs')
@Index('idx_managed_job_logs_job', ['jobId', 'logId'])
export class ManagedJobLogEntity {
  /** UUIDv7: lines of one process sort in the order they were written. */
  @PrimaryColumn({ name: 'log_id', type: 'uuid', primaryKeyConstraintName: 'pk_managed_job_logs' })
  logId!: string;

  @Column({ name: 'job_id', type: 'uuid' })
  jobId!: string;

  @TimestampColumn()
  at!: Date;

  /** `info`, `warn` or `error`. */
  @Column({ type: 'varchar', length: 8 })
  level!: string;

  @Column({ type: 'text' })
  message!: string;

  @JsonColumn({ nullable: true })
  data!: Record<string, unknown> | null;
}
