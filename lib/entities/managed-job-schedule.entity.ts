import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn } from './json.column.js';
import { TimestampColumn } from './timestamp.column.js';

/**
 * A durable schedule (`kind = 'cron'`), or the name of a one-off `once()` job (`kind = 'once'`):
 * one row per name, so a name means one thing. The ticker fires a cron row by moving its
 * `next_run_at` with a compare-and-set in the transaction that inserts the job, which is what
 * makes every occurrence yield exactly one job across processes.
 *
 * The partial "due" index (enabled rows by `next_run_at`) is written by the migrations.
 */
@Entity('managed_job_schedules')
@Index('idx_managed_job_schedules_due', { synchronize: false })
export class ManagedJobScheduleEntity {
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_managed_job_schedules' })
  name!: string;

  /** 'cron' or 'once'. */
  @Column({ type: 'varchar', length: 8, default: 'cron' })
  kind!: string;

  /** The cron expression; null for a one-off. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  cron!: string | null;

  @Column({ type: 'varchar', length: 64, default: 'UTC' })
  timezone!: string;

  @Column({ name: 'job_type', type: 'varchar', length: 255 })
  jobType!: string;

  @JsonColumn({ nullable: true })
  payload!: unknown;

  @Column({ name: 'owner_user_id', type: 'varchar', length: 255, nullable: true })
  ownerUserId!: string | null;

  @Column({ name: 'owner_tenant_id', type: 'varchar', length: 255, nullable: true })
  ownerTenantId!: string | null;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'catch_up', type: 'varchar', length: 8, default: 'latest' })
  catchUp!: string;

  @Column({ type: 'varchar', length: 8, default: 'allow' })
  overlap!: string;

  @TimestampColumn({ name: 'next_run_at', nullable: true })
  nextRunAt!: Date | null;

  @TimestampColumn({ name: 'last_run_at', nullable: true })
  lastRunAt!: Date | null;

  /** No foreign key: finished jobs are pruned, the schedule stays. */
  @Column({ name: 'last_job_id', type: 'uuid', nullable: true })
  lastJobId!: string | null;

  /** Declared in code (`@ManagedJob({ schedule })`, `forRoot({ schedules })`) rather than made at run time. */
  @Column({ type: 'boolean', default: false })
  declared!: boolean;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
