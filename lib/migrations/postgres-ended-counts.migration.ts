import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL: the ended-job counts behind `stats()` (see `lib/store/postgres/ended-counts.sql.ts`):
 * how many completed, failed and stopped jobs of each queue and type finished before the watermark.
 * Nothing on the job hot path reads or writes them; `stats()` moves the watermark on, and the few
 * statements that take a job out of an ended status (retry, delete, prune, a workflow member
 * revived) correct them in their own transaction.
 */
export class ManagedJobsPostgresEndedCounts1765200000000 implements MigrationInterface {
  name = 'ManagedJobsPostgresEndedCounts1765200000000';

  async up(q: QueryRunner): Promise<void> {
    // Counts no longer read an index over every ended job: the one the operations migration made
    // took an entry at every completion (4.6 µs a job on SQLite, measured). Failed and stopped jobs,
    // the few an operator looks for among a million completed ones, keep theirs.
    await q.query(`DROP INDEX "idx_managed_jobs_ended"`);
    await q.query(`CREATE INDEX "idx_managed_jobs_failed" ON "managed_jobs" ("status", "queue", "job_id") WHERE "status" IN ('failed', 'stopped')`);
    await q.query(`CREATE TABLE "managed_job_ended_counts" ("queue" character varying(255) NOT NULL, "type" character varying(255) NOT NULL,
      "status" character varying(16) NOT NULL, "n" bigint NOT NULL, CONSTRAINT "pk_managed_job_ended_counts" PRIMARY KEY ("queue", "type", "status"))`);
    await q.query(`CREATE TABLE "managed_job_ended_mark" ("id" integer NOT NULL, "watermark" TIMESTAMP(3) NOT NULL,
      CONSTRAINT "pk_managed_job_ended_mark" PRIMARY KEY ("id"))`);
    // The epoch: nothing counted yet; the first stats() counts every ended job once.
    await q.query(`INSERT INTO "managed_job_ended_mark" ("id", "watermark") VALUES (1, '1970-01-01 00:00:00')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_ended_mark"`);
    await q.query(`DROP TABLE "managed_job_ended_counts"`);
    await q.query(`DROP INDEX "idx_managed_jobs_failed"`);
    await q.query(`CREATE INDEX "idx_managed_jobs_ended" ON "managed_jobs" ("status", "queue", "job_id") WHERE "status" IN ('completed', 'failed', 'stopped')`);
  }
}
