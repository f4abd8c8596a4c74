import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MySQL/MariaDB: the operator's tables. No index of its own on `managed_jobs`: there are no partial
 * indexes here, and the claim index `(status, queue, priority, job_id)` already answers counts by
 * status and queue from the index alone (a second status index cost every transition a write).
 */
export class ManagedJobsMysqlOperations1765000000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlOperations1765000000000';

  async up(q: QueryRunner): Promise<void> {
    const id = q.connection.driver.normalizeType({ type: 'uuid' }) === 'uuid' ? 'uuid' : 'varchar(255)';
    const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
    await q.query(`CREATE TABLE \`managed_job_queues\` (\`queue\` varchar(255) NOT NULL, \`paused\` tinyint NOT NULL DEFAULT 0,
      \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`queue\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_workers\` (\`worker_id\` varchar(255) NOT NULL, \`hostname\` varchar(255) NOT NULL,
      \`pid\` int NOT NULL, \`queues\` json NOT NULL, \`concurrency\` int NOT NULL, \`running\` int NOT NULL DEFAULT '0',
      \`started_at\` datetime(3) NOT NULL, \`last_seen_at\` datetime(3) NOT NULL, PRIMARY KEY (\`worker_id\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_audit\` (\`audit_id\` ${id} NOT NULL, \`at\` datetime(3) NOT NULL, \`actor\` varchar(255) NULL,
      \`action\` varchar(64) NOT NULL, \`target\` varchar(1024) NOT NULL, \`reason\` text NULL, \`count\` int NOT NULL DEFAULT '0',
      PRIMARY KEY (\`audit_id\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_logs\` (\`log_id\` ${id} NOT NULL, \`job_id\` ${id} NOT NULL, \`at\` datetime(3) NOT NULL,
      \`level\` varchar(8) NOT NULL, \`message\` text NOT NULL, \`data\` json NULL, INDEX \`idx_managed_job_logs_job\` (\`job_id\`, \`log_id\`),
      PRIMARY KEY (\`log_id\`)) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE \`managed_job_logs\``);
    await q.query(`DROP TABLE \`managed_job_audit\``);
    await q.query(`DROP TABLE \`managed_job_workers\``);
    await q.query(`DROP TABLE \`managed_job_queues\``);
  }
}
