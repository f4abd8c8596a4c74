import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SQLite: the operator's tables and the index over ended jobs (see the PostgreSQL migration). */
export class ManagedJobsSqliteOperations1765000000000 implements MigrationInterface {
  name = 'ManagedJobsSqliteOperations1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "managed_job_queues" ("queue" varchar(255) PRIMARY KEY NOT NULL, "paused" boolean NOT NULL DEFAULT (0),
      "updated_at" datetime(3) NOT NULL)`);
    await q.query(`CREATE TABLE "managed_job_workers" ("worker_id" varchar(255) PRIMARY KEY NOT NULL, "hostname" varchar(255) NOT NULL,
      "pid" integer NOT NULL, "queues" jsonb NOT NULL, "concurrency" integer NOT NULL, "running" integer NOT NULL DEFAULT (0),
      "started_at" datetime(3) NOT NULL, "last_seen_at" datetime(3) NOT NULL)`);
    await q.query(`CREATE TABLE "managed_job_audit" ("audit_id" varchar PRIMARY KEY NOT NULL, "at" datetime(3) NOT NULL, "actor" varchar(255),
      "action" varchar(64) NOT NULL, "target" varchar(1024) NOT NULL, "reason" text, "count" integer NOT NULL DEFAULT (0))`);
    await q.query(`CREATE TABLE "managed_job_logs" ("log_id" varchar PRIMARY KEY NOT NULL, "job_id" varchar NOT NULL, "at" datetime(3) NOT NULL,
      "level" varchar(8) NOT NULL, "message" text NOT NULL, "data" jsonb)`);
    await q.query(`CREATE INDEX "idx_managed_job_logs_job" ON "managed_job_logs" ("job_id", "log_id")`);
    await q.query(`CREATE INDEX "idx_managed_jobs_ended" ON "managed_jobs" ("status", "queue", "job_id") WHERE "status" IN ('completed', 'failed', 'stopped')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "idx_managed_jobs_ended"`);
    await q.query(`DROP TABLE "managed_job_logs"`);
    await q.query(`DROP TABLE "managed_job_audit"`);
    await q.query(`DROP TABLE "managed_job_workers"`);
    await q.query(`DROP TABLE "managed_job_queues"`);
  }
}
