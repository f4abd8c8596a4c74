import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MySQL/MariaDB: `trace_context`, the W3C trace context of the dispatch (OpenTelemetry), so a run
 * in any process continues the dispatching trace. Nullable, no index: written at dispatch, read
 * only with the claimed row.
 */
export class ManagedJobsMysqlTraceContext1765000000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlTraceContext1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE \`managed_jobs\` ADD \`trace_context\` text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE \`managed_jobs\` DROP COLUMN \`trace_context\``);
  }
}
