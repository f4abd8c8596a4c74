import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ManagedJobEntity } from './managed-job.entity.js';
import { TimestampColumn } from './timestamp.column.js';

/** A file a job produced. Expired files are deleted from storage and soft-deleted here. */
@Entity('managed_job_files')
@Index('idx_managed_job_files_job', ['jobId'])
@Index('idx_managed_job_files_expiry', { synchronize: false })
export class ManagedJobFileEntity {
  @PrimaryColumn({ name: 'job_file_id', type: 'uuid', primaryKeyConstraintName: 'pk_managed_job_files' })
  jobFileId!: string;

  @Column({ name: 'job_id', type: 'uuid' })
  jobId!: string;

  /** The name shown to users and sent in downloads. */
  @Column({ type: 'varchar', length: 255 })
  filename!: string;

  /** Where the file lives, relative to the storage root. */
  @Column({ type: 'varchar', length: 1024 })
  path!: string;

  @Column({ name: 'mime_type', type: 'varchar', length: 255 })
  mimeType!: string;

  @Column({ name: 'size_bytes', type: 'bigint' })
  sizeBytes!: string;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt!: Date;

  @TimestampColumn({ name: 'created_at' })
  createdAt!: Date;

  @TimestampColumn({ name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;

  @ManyToOne(() => ManagedJobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', referencedColumnName: 'jobId', foreignKeyConstraintName: 'fk_managed_job_files_job' })
  job?: ManagedJobEntity;
}
