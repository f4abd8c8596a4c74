import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MySQL/MariaDB: job events between processes (no NOTIFY there). Relays append to
 * `managed_job_events`, gateways read past their last id and prune rows older than a minute;
 * `managed_job_event_readers` is who reads (relays send only while someone does). Internal tables,
 * without entities (see `store/mysql/event-relay.ts`).
 */
export class ManagedJobsMysqlEvents1764900000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlEvents1764900000000';

  async up(q: QueryRunner): Promise<void> {
    const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
    await q.query(`CREATE TABLE \`managed_job_events\` (\`id\` bigint NOT NULL AUTO_INCREMENT, \`payload\` text NOT NULL,
      \`created_at\` datetime(3) NOT NULL, PRIMARY KEY (\`id\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_event_readers\` (\`reader_id\` varchar(64) NOT NULL, \`seen_at\` datetime(3) NOT NULL,
      PRIMARY KEY (\`reader_id\`)) ${table}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE \`managed_job_event_readers\``);
    await q.query(`DROP TABLE \`managed_job_events\``);
  }
}
