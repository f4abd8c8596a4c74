import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The MySQL 8 / MariaDB ≥ 10.6 schema, one class for both TypeORM types. The tables match the
 * entities exactly (the drift test proves it). Two choices are the driver's, read from it:
 * ids are MariaDB's native `uuid` from 10.7 on (16 bytes; UUIDv7 ids sort by creation time from
 * 10.11.2/10.10.3 on, see README), `varchar(255)` before and on MySQL; JSON is `json` (MariaDB:
 * `longtext` with a validity check). Tables are `utf8mb4_bin`: names, queues and owner ids
 * compare exactly, as on PostgreSQL and SQLite.
 *
 * MySQL has no partial indexes: the claim index leads with `status`, so pending rows of a queue
 * are one range in claim order (`priority DESC` is honoured by MySQL 8 and MariaDB ≥ 10.8).
 * `managed_job_wakeups` is the change counter a worker polls for wake-ups (`mysql/notifier.ts`).
 */
export class ManagedJobsMysqlInit1763800000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlInit1763800000000';

  async up(q: QueryRunner): Promise<void> {
    const id = q.connection.driver.normalizeType({ type: 'uuid' }) === 'uuid' ? 'uuid' : 'varchar(255)';
    const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
    await q.query(`CREATE TABLE \`managed_jobs\` (\`job_id\` ${id} NOT NULL, \`type\` varchar(255) NOT NULL,
      \`queue\` varchar(255) NOT NULL DEFAULT 'default', \`status\` varchar(16) NOT NULL DEFAULT 'pending',
      \`priority\` int NOT NULL DEFAULT '0', \`payload\` json NULL, \`state\` json NULL, \`result\` json NULL,
      \`progress_percentage\` smallint NOT NULL DEFAULT '0', \`progress_message\` text NULL, \`owner_user_id\` varchar(255) NULL,
      \`owner_tenant_id\` varchar(255) NULL, \`triggered_by_user_id\` varchar(255) NULL, \`attempts\` int NOT NULL DEFAULT '0',
      \`max_attempts\` int NOT NULL DEFAULT '1', \`idempotent\` tinyint NOT NULL DEFAULT 1, \`available_at\` datetime(3) NOT NULL,
      \`lease_owner\` varchar(255) NULL, \`lease_expires_at\` datetime(3) NULL, \`fence\` int NOT NULL DEFAULT '0',
      \`failed_reason\` text NULL, \`started_at\` datetime(3) NULL, \`finished_at\` datetime(3) NULL,
      \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`job_id\`),
      INDEX \`idx_managed_jobs_claim\` (\`status\`, \`queue\`, \`priority\` DESC, \`job_id\`),
      INDEX \`idx_managed_jobs_lease\` (\`lease_expires_at\`),
      INDEX \`idx_managed_jobs_owner\` (\`owner_user_id\`, \`job_id\`),
      INDEX \`idx_managed_jobs_tenant\` (\`owner_tenant_id\`, \`job_id\`),
      INDEX \`idx_managed_jobs_finished\` (\`finished_at\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_attempts\` (\`job_id\` ${id} NOT NULL, \`fence\` int NOT NULL, \`attempt\` int NOT NULL,
      \`worker_id\` varchar(255) NOT NULL, \`started_at\` datetime(3) NOT NULL, \`finished_at\` datetime(3) NOT NULL,
      \`outcome\` varchar(16) NOT NULL, \`error\` text NULL, PRIMARY KEY (\`job_id\`, \`fence\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_files\` (\`job_file_id\` ${id} NOT NULL, \`job_id\` ${id} NOT NULL,
      \`filename\` varchar(255) NOT NULL, \`path\` varchar(1024) NOT NULL, \`mime_type\` varchar(255) NOT NULL,
      \`size_bytes\` bigint NOT NULL, \`expires_at\` datetime(3) NOT NULL, \`created_at\` datetime(3) NOT NULL, \`deleted_at\` datetime(3) NULL,
      INDEX \`idx_managed_job_files_job\` (\`job_id\`), INDEX \`idx_managed_job_files_expiry\` (\`deleted_at\`, \`expires_at\`),
      PRIMARY KEY (\`job_file_id\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_steps\` (\`job_id\` ${id} NOT NULL, \`name\` varchar(255) NOT NULL, \`result\` json NULL,
      \`completed_at\` datetime(3) NOT NULL, PRIMARY KEY (\`job_id\`, \`name\`)) ${table}`);
    await q.query(`ALTER TABLE \`managed_job_files\` ADD CONSTRAINT \`fk_managed_job_files_job\` FOREIGN KEY (\`job_id\`)
      REFERENCES \`managed_jobs\`(\`job_id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE \`managed_job_steps\` ADD CONSTRAINT \`fk_managed_job_steps_job\` FOREIGN KEY (\`job_id\`)
      REFERENCES \`managed_jobs\`(\`job_id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`CREATE TABLE \`managed_job_wakeups\` (\`id\` int NOT NULL, \`version\` bigint NOT NULL DEFAULT 0, PRIMARY KEY (\`id\`)) ${table}`);
    await q.query(`INSERT INTO \`managed_job_wakeups\` (\`id\`, \`version\`) VALUES (1, 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE \`managed_job_wakeups\``);
    await q.query(`DROP TABLE \`managed_job_steps\``);
    await q.query(`DROP TABLE \`managed_job_files\``);
    await q.query(`DROP TABLE \`managed_job_attempts\``);
    await q.query(`DROP TABLE \`managed_jobs\``);
  }
}
