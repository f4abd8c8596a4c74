import { Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ManagedJobEntity } from './managed-job.entity.js';

/** An edge of a workflow: `jobId` waits until `dependsOn` has completed. */
@Entity('managed_job_dependencies')
@Index('idx_managed_job_dependencies_on', ['dependsOn'])
export class ManagedJobDependencyEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid', primaryKeyConstraintName: 'pk_managed_job_dependencies' })
  jobId!: string;

  @PrimaryColumn({ name: 'depends_on', type: 'uuid', primaryKeyConstraintName: 'pk_managed_job_dependencies' })
  dependsOn!: string;

  @ManyToOne(() => ManagedJobEntity, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'job_id', referencedColumnName: 'jobId', foreignKeyConstraintName: 'fk_managed_job_dependencies_job' })
  job?: ManagedJobEntity;
}
