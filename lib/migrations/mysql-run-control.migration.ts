import type { MigrationInterface, QueryRunner } from 'typeorm';

/** MySQL/MariaDB: `retry_until`, `stoppable` and `stop_disabled_fence` of `managed_jobs` (job run control, issue 12). */
export class ManagedJobsMysqlRunControl1764600000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlRunControl1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE \`managed_jobs\` ADD \`retry_until\` datetime(3) NULL, ADD \`stoppable\` tinyint NOT NULL DEFAULT 1,
      ADD \`stop_disabled_fence\` int NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE \`managed_jobs\` DROP COLUMN \`stop_disabled_fence\`, DROP COLUMN \`stoppable\`, DROP COLUMN \`retry_until\``);
  }
}
