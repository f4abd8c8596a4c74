import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SQLite: the ended-job counts behind `stats()`; as on PostgreSQL (`lib/store/sqlite/ended-counts.sql.ts`). */
export class ManagedJobsSqliteEndedCounts1765200000000 implements MigrationInterface {
  name = 'ManagedJobsSqliteEndedCounts1765200000000';

  async up(q: QueryRunner): Promise<void> {
    // Counts no longer read an index over every ended job: the one the operations migration made
    // took an entry at every completion (4.6 µs a job on SQLite, measured). Failed and stopped jobs,
    // the few an operator looks for among a million completed ones, keep theirs.
    await q.query(`DROP INDEX "idx_managed_jobs_ended"`);
    await q.query(`CREATE INDEX "idx_managed_jobs_failed" ON "managed_jobs" ("status", "queue", "job_id") WHERE "status" IN ('failed', 'stopped')`);
    await q.query(`CREATE TABLE "managed_job_ended_counts" ("queue" varchar(255) NOT NULL, "type" varchar(255) NOT NULL,
      "status" varchar(16) NOT NULL, "n" integer NOT NULL, PRIMARY KEY ("queue", "type", "status"))`);
    await q.query(`CREATE TABLE "managed_job_ended_mark" ("id" integer PRIMARY KEY NOT NULL, "watermark" datetime(3) NOT NULL)`);
    await q.query(`INSERT INTO "managed_job_ended_mark" ("id", "watermark") VALUES (1, '1970-01-01 00:00:00.000')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_ended_mark"`);
    await q.query(`DROP TABLE "managed_job_ended_counts"`);
    await q.query(`DROP INDEX "idx_managed_jobs_failed"`);
    await q.query(`CREATE INDEX "idx_managed_jobs_ended" ON "managed_jobs" ("status", "queue", "job_id") WHERE "status" IN ('completed', 'failed', 'stopped')`);
  }
}
