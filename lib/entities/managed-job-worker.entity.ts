import { Column, Entity, PrimaryColumn } from 'typeorm';
import { JsonColumn } from './json.column.js';
import { TimestampColumn } from './timestamp.column.js';

/**
 * The live worker registry: one row per worker process, written at start and refreshed by its
 * heartbeat (`last_seen_at`, `running`). A row not refreshed for a while belongs to a dead process:
 * it is left out of `workers()` and deleted by the next worker that starts or beats.
 */
@Entity('managed_job_workers')
export class ManagedJobWorkerEntity {
  @PrimaryColumn({ name: 'worker_id', type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_managed_job_workers' })
  workerId!: string;

  @Column({ type: 'varchar', length: 255 })
  hostname!: string;

  @Column({ type: 'integer' })
  pid!: number;

  @JsonColumn()
  queues!: string[];

  @Column({ type: 'integer' })
  concurrency!: number;

  @Column({ type: 'integer', default: 0 })
  running!: number;

  @TimestampColumn({ name: 'started_at' })
  startedAt!: Date;

  @TimestampColumn({ name: 'last_seen_at' })
  lastSeenAt!: Date;
}
