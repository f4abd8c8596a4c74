import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MySQL/MariaDB: batches, chains and DAGs (lib/workflows). No partial indexes: the batch index
 * holds plain jobs too (under a null `batch_id`, one range nothing reads), and `waiting` members
 * sit in their own `status` range of the claim index, which the claim never enters.
 */
export class ManagedJobsMysqlWorkflows1765100000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlWorkflows1765100000000';

  async up(q: QueryRunner): Promise<void> {
    const id = q.connection.driver.normalizeType({ type: 'uuid' }) === 'uuid' ? 'uuid' : 'varchar(255)';
    const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
    await q.query(`ALTER TABLE \`managed_jobs\` ADD \`batch_id\` ${id} NULL, ADD \`batch_key\` varchar(255) NULL,
      ADD \`batch_stopped_by\` ${id} NULL, ADD \`callback_batch_id\` ${id} NULL,
      ADD INDEX \`idx_managed_jobs_batch\` (\`batch_id\`, \`status\`)`);
    await q.query(`CREATE TABLE \`managed_job_batches\` (\`batch_id\` ${id} NOT NULL, \`name\` varchar(255) NULL, \`status\` varchar(16) NOT NULL,
      \`total\` int NOT NULL DEFAULT '0', \`completed\` int NOT NULL DEFAULT '0', \`failed\` int NOT NULL DEFAULT '0',
      \`stopped\` int NOT NULL DEFAULT '0', \`failure_policy\` varchar(16) NOT NULL, \`failure_threshold\` int NULL, \`callbacks\` text NULL,
      \`callbacks_sent\` int NOT NULL DEFAULT '0', \`owner_user_id\` varchar(255) NULL, \`owner_tenant_id\` varchar(255) NULL,
      \`triggered_by_user_id\` varchar(255) NULL, \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL,
      \`finished_at\` datetime(3) NULL, PRIMARY KEY (\`batch_id\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_dependencies\` (\`job_id\` ${id} NOT NULL, \`depends_on\` ${id} NOT NULL,
      INDEX \`idx_managed_job_dependencies_on\` (\`depends_on\`), PRIMARY KEY (\`job_id\`, \`depends_on\`)) ${table}`);
    await q.query(`ALTER TABLE \`managed_job_dependencies\` ADD CONSTRAINT \`fk_managed_job_dependencies_job\` FOREIGN KEY (\`job_id\`)
      REFERENCES \`managed_jobs\`(\`job_id\`) ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE \`managed_job_dependencies\``);
    await q.query(`DROP TABLE \`managed_job_batches\``);
    await q.query(`ALTER TABLE \`managed_jobs\` DROP INDEX \`idx_managed_jobs_batch\`, DROP COLUMN \`callback_batch_id\`,
      DROP COLUMN \`batch_stopped_by\`, DROP COLUMN \`batch_key\`, DROP COLUMN \`batch_id\``);
  }
}
