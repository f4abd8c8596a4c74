import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './timestamp.column.js';

/** The audit trail: one row per operator action (service, API or CLI), newest last (UUIDv7 ids sort by time). */
@Entity('managed_job_audit')
export class ManagedJobAuditEntity {
  @PrimaryColumn({ name: 'audit_id', type: 'uuid', primaryKeyConstraintName: 'pk_managed_job_audit' })
  auditId!: string;

  @TimestampColumn()
  at!: Date;

  @Column({ type: 'varchar', length: 255, nullable: true })
  actor!: string | null;

  /** `retry`, `delete`, `stop`, `clearQueue`, `pauseQueue`, `resumeQueue`, `schedule.enable`, … */
  @Column({ type: 'varchar', length: 64 })
  action!: string;

  /** What the action named: a job id, a queue, a schedule, or the filter as JSON. */
  @Column({ type: 'varchar', length: 1024 })
  target!: string;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** How many jobs (or schedules) it changed. */
  @Column({ type: 'integer', default: 0 })
  count!: number;
}
