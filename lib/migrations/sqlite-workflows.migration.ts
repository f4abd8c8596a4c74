import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SQLite: batches, chains and DAGs (lib/workflows); as on PostgreSQL. */
export class ManagedJobsSqliteWorkflows1765100000000 implements MigrationInterface {
  name = 'ManagedJobsSqliteWorkflows1765100000000';

  async up(q: QueryRunner): Promise<void> {
    for (const column of ['batch_id" varchar', 'batch_key" varchar(255)', 'batch_stopped_by" varchar', 'callback_batch_id" varchar']) {
      await q.query(`ALTER TABLE "managed_jobs" ADD COLUMN "${column}`);
    }
    await q.query(`CREATE INDEX "idx_managed_jobs_batch" ON "managed_jobs" ("batch_id", "status") WHERE "batch_id" IS NOT NULL`);
    await q.query(`CREATE TABLE "managed_job_batches" ("batch_id" varchar PRIMARY KEY NOT NULL, "name" varchar(255), "status" varchar(16) NOT NULL,
      "total" integer NOT NULL DEFAULT (0), "completed" integer NOT NULL DEFAULT (0), "failed" integer NOT NULL DEFAULT (0),
      "stopped" integer NOT NULL DEFAULT (0), "failure_policy" varchar(16) NOT NULL, "failure_threshold" integer, "callbacks" text,
      "callbacks_sent" integer NOT NULL DEFAULT (0), "owner_user_id" varchar(255), "owner_tenant_id" varchar(255),
      "triggered_by_user_id" varchar(255), "created_at" datetime(3) NOT NULL, "updated_at" datetime(3) NOT NULL, "finished_at" datetime(3))`);
    await q.query(`CREATE TABLE "managed_job_dependencies" ("job_id" varchar NOT NULL, "depends_on" varchar NOT NULL,
      CONSTRAINT "fk_managed_job_dependencies_job" FOREIGN KEY ("job_id") REFERENCES "managed_jobs" ("job_id") ON DELETE CASCADE ON UPDATE NO ACTION,
      PRIMARY KEY ("job_id", "depends_on"))`);
    await q.query(`CREATE INDEX "idx_managed_job_dependencies_on" ON "managed_job_dependencies" ("depends_on")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_dependencies"`);
    await q.query(`DROP TABLE "managed_job_batches"`);
    await q.query(`DROP INDEX "idx_managed_jobs_batch"`);
    for (const column of ['callback_batch_id', 'batch_stopped_by', 'batch_key', 'batch_id']) await q.query(`ALTER TABLE "managed_jobs" DROP COLUMN "${column}"`);
  }
}
