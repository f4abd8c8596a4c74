import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SQLite: `retry_until`, `stoppable` and `stop_disabled_fence` of `managed_jobs` (job run control, issue 12). */
export class ManagedJobsSqliteRunControl1764600000000 implements MigrationInterface {
  name = 'ManagedJobsSqliteRunControl1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "managed_jobs" ADD COLUMN "retry_until" datetime(3)`);
    await q.query(`ALTER TABLE "managed_jobs" ADD COLUMN "stoppable" boolean NOT NULL DEFAULT (1)`);
    await q.query(`ALTER TABLE "managed_jobs" ADD COLUMN "stop_disabled_fence" integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "managed_jobs" DROP COLUMN "stop_disabled_fence"`);
    await q.query(`ALTER TABLE "managed_jobs" DROP COLUMN "stoppable"`);
    await q.query(`ALTER TABLE "managed_jobs" DROP COLUMN "retry_until"`);
  }
}
