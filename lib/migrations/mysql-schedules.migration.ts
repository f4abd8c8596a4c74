import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MySQL/MariaDB: the durable schedules table (`ManagedJobScheduleEntity`) and its "due" index
 * (no partial indexes: `(enabled, next_run_at)` serves `min(next_run_at)` of the enabled rows).
 */
export class ManagedJobsMysqlSchedules1764400000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlSchedules1764400000000';

  async up(q: QueryRunner): Promise<void> {
    const id = q.connection.driver.normalizeType({ type: 'uuid' }) === 'uuid' ? 'uuid' : 'varchar(255)';
    await q.query(`CREATE TABLE \`managed_job_schedules\` (\`name\` varchar(255) NOT NULL, \`kind\` varchar(8) NOT NULL DEFAULT 'cron',
      \`cron\` varchar(255) NULL, \`timezone\` varchar(64) NOT NULL DEFAULT 'UTC', \`job_type\` varchar(255) NOT NULL, \`payload\` json NULL,
      \`owner_user_id\` varchar(255) NULL, \`owner_tenant_id\` varchar(255) NULL, \`enabled\` tinyint NOT NULL DEFAULT 1,
      \`catch_up\` varchar(8) NOT NULL DEFAULT 'latest', \`overlap\` varchar(8) NOT NULL DEFAULT 'allow',
      \`next_run_at\` datetime(3) NULL, \`last_run_at\` datetime(3) NULL, \`last_job_id\` ${id} NULL, \`declared\` tinyint NOT NULL DEFAULT 0,
      \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`name\`),
      INDEX \`idx_managed_job_schedules_due\` (\`enabled\`, \`next_run_at\`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE \`managed_job_schedules\``);
  }
}
