import type { MigrationInterface, QueryRunner } from 'typeorm';

/** MySQL/MariaDB: the ended-job counts behind `stats()`; as on PostgreSQL (`lib/store/mysql/ended-counts.sql.ts`). */
export class ManagedJobsMysqlEndedCounts1765200000000 implements MigrationInterface {
  name = 'ManagedJobsMysqlEndedCounts1765200000000';

  async up(q: QueryRunner): Promise<void> {
    const table = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
    await q.query(`CREATE TABLE \`managed_job_ended_counts\` (\`queue\` varchar(255) NOT NULL, \`type\` varchar(255) NOT NULL,
      \`status\` varchar(16) NOT NULL, \`n\` bigint NOT NULL, PRIMARY KEY (\`queue\`, \`type\`, \`status\`)) ${table}`);
    await q.query(`CREATE TABLE \`managed_job_ended_mark\` (\`id\` int NOT NULL, \`watermark\` datetime(3) NOT NULL, PRIMARY KEY (\`id\`)) ${table}`);
    await q.query(`INSERT INTO \`managed_job_ended_mark\` (\`id\`, \`watermark\`) VALUES (1, '1970-01-01 00:00:00.000')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE \`managed_job_ended_mark\``);
    await q.query(`DROP TABLE \`managed_job_ended_counts\``);
  }
}
