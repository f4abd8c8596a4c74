import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL: batches, chains and DAGs (lib/workflows). Members carry `batch_id`; plain jobs leave
 * the new columns null and no new index holds them. `waiting` members are not in the claim index
 * (partial on `status = 'pending'`), so they cost the claim nothing.
 */
export class ManagedJobsPostgresWorkflows1765100000000 implements MigrationInterface {
  name = 'ManagedJobsPostgresWorkflows1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "managed_jobs" ADD "batch_id" uuid, ADD "batch_key" character varying(255), ADD "batch_stopped_by" uuid,
      ADD "callback_batch_id" uuid`);
    // A batch's members by status: the running count of a progress event and `list({ batchId })`.
    await q.query(`CREATE INDEX "idx_managed_jobs_batch" ON "managed_jobs" ("batch_id", "status") WHERE "batch_id" IS NOT NULL`);
    await q.query(`CREATE TABLE "managed_job_batches" ("batch_id" uuid NOT NULL, "name" character varying(255), "status" character varying(16) NOT NULL,
      "total" integer NOT NULL DEFAULT '0', "completed" integer NOT NULL DEFAULT '0', "failed" integer NOT NULL DEFAULT '0',
      "stopped" integer NOT NULL DEFAULT '0', "failure_policy" character varying(16) NOT NULL, "failure_threshold" integer,
      "callbacks" text, "callbacks_sent" integer NOT NULL DEFAULT '0', "owner_user_id" character varying(255),
      "owner_tenant_id" character varying(255), "triggered_by_user_id" character varying(255), "created_at" TIMESTAMP(3) NOT NULL,
      "updated_at" TIMESTAMP(3) NOT NULL, "finished_at" TIMESTAMP(3), CONSTRAINT "pk_managed_job_batches" PRIMARY KEY ("batch_id"))`);
    await q.query(`CREATE TABLE "managed_job_dependencies" ("job_id" uuid NOT NULL, "depends_on" uuid NOT NULL,
      CONSTRAINT "pk_managed_job_dependencies" PRIMARY KEY ("job_id", "depends_on"))`);
    await q.query(`CREATE INDEX "idx_managed_job_dependencies_on" ON "managed_job_dependencies" ("depends_on")`);
    await q.query(`ALTER TABLE "managed_job_dependencies" ADD CONSTRAINT "fk_managed_job_dependencies_job" FOREIGN KEY ("job_id")
      REFERENCES "managed_jobs"("job_id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_dependencies"`);
    await q.query(`DROP TABLE "managed_job_batches"`);
    await q.query(`DROP INDEX "idx_managed_jobs_batch"`);
    await q.query(`ALTER TABLE "managed_jobs" DROP COLUMN "callback_batch_id", DROP COLUMN "batch_stopped_by", DROP COLUMN "batch_key", DROP COLUMN "batch_id"`);
  }
}
