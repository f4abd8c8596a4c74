import type { MigrationInterface, QueryRunner } from 'typeorm';

/** PostgreSQL: the durable schedules table (`ManagedJobScheduleEntity`) and its "due" index. */
export class ManagedJobsPostgresSchedules1764400000000 implements MigrationInterface {
  name = 'ManagedJobsPostgresSchedules1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "managed_job_schedules" ("name" character varying(255) NOT NULL,
      "kind" character varying(8) NOT NULL DEFAULT 'cron', "cron" character varying(255),
      "timezone" character varying(64) NOT NULL DEFAULT 'UTC', "job_type" character varying(255) NOT NULL, "payload" jsonb,
      "owner_user_id" character varying(255), "owner_tenant_id" character varying(255), "enabled" boolean NOT NULL DEFAULT true,
      "catch_up" character varying(8) NOT NULL DEFAULT 'latest', "overlap" character varying(8) NOT NULL DEFAULT 'allow',
      "next_run_at" TIMESTAMP(3), "last_run_at" TIMESTAMP(3), "last_job_id" uuid, "declared" boolean NOT NULL DEFAULT false,
      "created_at" TIMESTAMP(3) NOT NULL, "updated_at" TIMESTAMP(3) NOT NULL,
      CONSTRAINT "pk_managed_job_schedules" PRIMARY KEY ("name"))`);
    // The ticker's one query per wake-up, `min(next_run_at)` of the enabled rows, reads one entry here.
    await q.query(`CREATE INDEX "idx_managed_job_schedules_due" ON "managed_job_schedules" ("next_run_at") WHERE "enabled"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_schedules"`);
  }
}
