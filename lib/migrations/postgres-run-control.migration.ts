import type { MigrationInterface, QueryRunner } from 'typeorm';

/** PostgreSQL: `retry_until`, `stoppable` and `stop_disabled_fence` of `managed_jobs` (job run control, issue 12). */
export class ManagedJobsPostgresRunControl1764600000000 implements MigrationInterface {
  name = 'ManagedJobsPostgresRunControl1764600000000';

  async up(q: QueryRunner): Promise<void> {
    // A constant default: no table rewrite (PostgreSQL 11+).
    await q.query(`ALTER TABLE "managed_jobs" ADD "retry_until" TIMESTAMP(3), ADD "stoppable" boolean NOT NULL DEFAULT true,
      ADD "stop_disabled_fence" integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "managed_jobs" DROP COLUMN "stop_disabled_fence", DROP COLUMN "stoppable", DROP COLUMN "retry_until"`);
  }
}
