import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './timestamp.column.js';

/**
 * A queue's switches: `paused` holds every claim of the queue in every process (dispatches are
 * still accepted). A queue without a row is running. Each claim statement reads this table by its
 * primary key once (not once per job).
 */
@Entity('managed_job_queues')
export class ManagedJobQueueEntity {
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_managed_job_queues' })
  queue!: string;

  @Column({ type: 'boolean', default: false })
  paused!: boolean;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
