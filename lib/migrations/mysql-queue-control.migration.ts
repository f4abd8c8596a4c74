import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MySQL/MariaDB: unique jobs, concurrency keys and rate limits (lib/queue-control). No partial
 * indexes: uniqueness is a row per (type, unique key) in `managed_job_unique_holds` naming its
 * holder, taken under that row's lock at dispatch (the holder's status decides whether it still
 * holds, so nothing else ever writes it); the key indexes lead with `status` instead.
 */
export class ManagedJobsMysqlQueueControl1764500000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlQueueControl1764500000000';

  async up(q: QueryRunner): Promise<void> {
    const id = q.connection.driver.normalizeType({ type: 'uuid' }) === 'uuid' ? 'uuid' : 'varchar(255)';
    await q.query(`ALTER TABLE \`managed_jobs\` ADD \`unique_key\` varchar(255) NULL, ADD \`unique_until\` varchar(16) NULL,
      ADD \`concurrency_key\` varchar(255) NULL, ADD \`rate_key\` varchar(255) NULL,
      ADD INDEX \`idx_managed_jobs_ckey\` (\`type\`, \`concurrency_key\`, \`status\`, \`priority\` DESC, \`job_id\`),
      ADD INDEX \`idx_managed_jobs_rkey\` (\`type\`, \`rate_key\`, \`status\`, \`priority\` DESC, \`job_id\`)`);
    await q.query(`CREATE TABLE \`managed_job_unique_holds\` (\`type\` varchar(255) NOT NULL, \`unique_key\` varchar(255) NOT NULL,
      \`job_id\` ${id} NOT NULL, PRIMARY KEY (\`type\`, \`unique_key\`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await q.query(`CREATE TABLE \`managed_job_keys\` (\`type\` varchar(255) NOT NULL, \`key_name\` varchar(255) NOT NULL,
      \`served_at\` datetime(3) NULL, PRIMARY KEY (\`type\`, \`key_name\`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await q.query(`CREATE TABLE \`managed_job_rate_tokens\` (\`type\` varchar(255) NOT NULL, \`key_name\` varchar(255) NOT NULL,
      \`slot\` int NOT NULL, \`until\` datetime(3) NOT NULL, PRIMARY KEY (\`type\`, \`key_name\`, \`slot\`))
      ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE \`managed_job_rate_tokens\``);
    await q.query(`DROP TABLE \`managed_job_keys\``);
    await q.query(`DROP TABLE \`managed_job_unique_holds\``);
    await q.query(`ALTER TABLE \`managed_jobs\` DROP INDEX \`idx_managed_jobs_rkey\`, DROP INDEX \`idx_managed_jobs_ckey\`,
      DROP COLUMN \`rate_key\`, DROP COLUMN \`concurrency_key\`, DROP COLUMN \`unique_until\`, DROP COLUMN \`unique_key\``);
  }
}
