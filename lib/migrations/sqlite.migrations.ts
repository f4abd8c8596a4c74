import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The SQLite schema: tables exactly as the entities describe them (the drift test proves it),
 * plus the partial, ordered indexes that serve the claim, the reaper and the owner lists.
 */
export class ManagedJobsSqliteInit1763800000000 implements MigrationInterface {
  name = 'ManagedJobsSqliteInit1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "managed_jobs" ("job_id" varchar PRIMARY KEY NOT NULL, "type" varchar(255) NOT NULL,
      "queue" varchar(255) NOT NULL DEFAULT ('default'), "status" varchar(16) NOT NULL DEFAULT ('pending'),
      "priority" integer NOT NULL DEFAULT (0), "payload" jsonb, "state" jsonb, "result" jsonb,
      "progress_percentage" smallint NOT NULL DEFAULT (0), "progress_message" text, "owner_user_id" varchar(255),
      "owner_tenant_id" varchar(255), "triggered_by_user_id" varchar(255), "attempts" integer NOT NULL DEFAULT (0),
      "max_attempts" integer NOT NULL DEFAULT (1), "idempotent" boolean NOT NULL DEFAULT (1), "available_at" datetime(3) NOT NULL,
      "lease_owner" varchar(255), "lease_expires_at" datetime(3), "fence" integer NOT NULL DEFAULT (0), "failed_reason" text,
      "started_at" datetime(3), "finished_at" datetime(3), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL)`);
    await q.query(`CREATE TABLE "managed_job_attempts" ("job_id" varchar NOT NULL, "fence" integer NOT NULL, "attempt" integer NOT NULL,
      "worker_id" varchar(255) NOT NULL, "started_at" datetime(3) NOT NULL, "finished_at" datetime(3) NOT NULL, "outcome" varchar(16) NOT NULL, "error" text,
      PRIMARY KEY ("job_id", "fence")) WITHOUT ROWID`);
    await q.query(`CREATE TABLE "managed_job_files" ("job_file_id" varchar PRIMARY KEY NOT NULL, "job_id" varchar NOT NULL,
      "filename" varchar(255) NOT NULL, "path" varchar(1024) NOT NULL, "mime_type" varchar(255) NOT NULL, "size_bytes" bigint NOT NULL,
      "expires_at" datetime(3) NOT NULL, "created_at" datetime(3) NOT NULL, "deleted_at" datetime(3),
      CONSTRAINT "fk_managed_job_files_job" FOREIGN KEY ("job_id") REFERENCES "managed_jobs" ("job_id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await q.query(`CREATE TABLE "managed_job_steps" ("job_id" varchar NOT NULL, "name" varchar(255) NOT NULL, "result" jsonb,
      "completed_at" datetime(3) NOT NULL,
      CONSTRAINT "fk_managed_job_steps_job" FOREIGN KEY ("job_id") REFERENCES "managed_jobs" ("job_id") ON DELETE CASCADE ON UPDATE NO ACTION,
      PRIMARY KEY ("job_id", "name"))`);
    await q.query(`CREATE INDEX "idx_managed_job_files_job" ON "managed_job_files" ("job_id")`);
    await q.query(`CREATE INDEX "idx_managed_jobs_claim" ON "managed_jobs" ("queue", "priority" DESC, "job_id") WHERE "status" = 'pending'`);
    // The reaper's index. Partial on the lease rather than on status = 'running': batch writes that
    // name running rows by id (completions, renewals) would otherwise be planned as a bitmap scan of
    // this index, which never drops the entries of rows that already finished (a drain of 10,000
    // jobs made each completion read 8,000 dead entries). A lease is set exactly while running.
    await q.query(`CREATE INDEX "idx_managed_jobs_lease" ON "managed_jobs" ("lease_expires_at") WHERE "lease_expires_at" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_managed_jobs_owner" ON "managed_jobs" ("owner_user_id", "job_id") WHERE "owner_user_id" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_managed_jobs_tenant" ON "managed_jobs" ("owner_tenant_id", "job_id") WHERE "owner_tenant_id" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_managed_jobs_finished" ON "managed_jobs" ("finished_at") WHERE "finished_at" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_managed_job_files_expiry" ON "managed_job_files" ("expires_at") WHERE "deleted_at" IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_steps"`);
    await q.query(`DROP TABLE "managed_job_files"`);
    await q.query(`DROP TABLE "managed_job_attempts"`);
    await q.query(`DROP TABLE "managed_jobs"`);
  }
}
