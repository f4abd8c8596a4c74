import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ManagedJobEntity } from './managed-job.entity.js';
import { JsonColumn } from './json.column.js';
import { TimestampColumn } from './timestamp.column.js';

/** A finished `ctx.step(name, fn)`: its result is returned instead of running `fn` again. */
@Entity('managed_job_steps')
export class ManagedJobStepEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid', primaryKeyConstraintName: 'pk_managed_job_steps' })
  jobId!: string;

  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_managed_job_steps' })
  name!: string;

  @JsonColumn({ nullable: true })
  result!: unknown;

  @TimestampColumn({ name: 'completed_at' })
  completedAt!: Date;

  @ManyToOne(() => ManagedJobEntity, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'job_id', referencedColumnName: 'jobId', foreignKeyConstraintName: 'fk_managed_job_steps_job' })
  job?: ManagedJobEntity;
}
