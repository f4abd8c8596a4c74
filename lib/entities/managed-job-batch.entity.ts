import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './timestamp.column.js';

/**
 * A batch, chain or DAG of jobs (lib/workflows). Its counters of finished members are kept by the
 * transaction that ends each member's run (never a count over the members); `pending` and
 * `running` of a `BatchRecord` are derived from them and the batch index at read time.
 */
@Entity('managed_job_batches')
export class ManagedJobBatchEntity {
  @PrimaryColumn({ name: 'batch_id', type: 'uuid', primaryKeyConstraintName: 'pk_managed_job_batches' })
  batchId!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  name!: string | null;

  /** A `BatchStatus`. */
  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ type: 'integer', default: 0 })
  total!: number;

  @Column({ type: 'integer', default: 0 })
  completed!: number;

  @Column({ type: 'integer', default: 0 })
  failed!: number;

  @Column({ type: 'integer', default: 0 })
  stopped!: number;

  /** `failFast`, `continue` or `threshold`. */
  @Column({ name: 'failure_policy', type: 'varchar', length: 16 })
  failurePolicy!: string;

  @Column({ name: 'failure_threshold', type: 'integer', nullable: true })
  failureThreshold!: number | null;

  /** The `then` / `catch` / `finally` jobs, validated at creation (JSON). */
  @Column({ type: 'text', nullable: true })
  callbacks!: string | null;

  /** Which callbacks were dispatched: 1 then, 2 catch, 4 finally (each set once, by a conditional update). */
  @Column({ name: 'callbacks_sent', type: 'integer', default: 0 })
  callbacksSent!: number;

  @Column({ name: 'owner_user_id', type: 'varchar', length: 255, nullable: true })
  ownerUserId!: string | null;

  @Column({ name: 'owner_tenant_id', type: 'varchar', length: 255, nullable: true })
  ownerTenantId!: string | null;

  @Column({ name: 'triggered_by_user_id', type: 'varchar', length: 255, nullable: true })
  triggeredByUserId!: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt!: Date;

  @TimestampColumn({ name: 'finished_at', nullable: true })
  finishedAt!: Date | null;
}
