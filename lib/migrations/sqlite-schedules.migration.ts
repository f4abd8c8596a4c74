import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SQLite: the durable schedules table (`ManagedJobScheduleEntity`) and its "due" index. */
export class ManagedJobsSqliteSchedules1764400000000 implements MigrationInterface {
  name = 'ManagedJobsSqliteSchedules1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "managed_job_schedules" ("name" varchar(255) PRIMARY KEY NOT NULL, "kind" varchar(8) NOT NULL DEFAULT ('cron'),
      "cron" varchar(255), "timezone" varchar(64) NOT NULL DEFAULT ('UTC'), "job_type" varchar(255) NOT NULL, "payload" jsonb,
      "owner_user_id" varchar(255), "owner_tenant_id" varchar(255), "enabled" boolean NOT NULL DEFAULT (1),
      "catch_up" varchar(8) NOT NULL DEFAULT ('latest'), "overlap" varchar(8) NOT NULL DEFAULT ('allow'),
      "next_run_at" datetime(3), "last_run_at" datetime(3), "last_job_id" varchar, "declared" boolean NOT NULL DEFAULT (0),
      "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)`);
    // The ticker's one query per wake-up, `min(next_run_at)` of the enabled rows, reads one entry here.
    await q.query(`CREATE INDEX "idx_managed_job_schedules_due" ON "managed_job_schedules" ("next_run_at") WHERE "enabled"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_schedules"`);
  }
}
