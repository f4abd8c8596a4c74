import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL: the operator's tables (queue switches, worker registry, audit trail, job logs) and
 * the index behind `stats()` and the operator's lists of ended jobs: `(status, queue, job_id)` over
 * completed, failed and stopped jobs only. It answers "count ended jobs by queue and status" from
 * the index alone and "failed jobs of a queue, newest first" by reading one range in order; live
 * jobs are counted from the claim and lease indexes. Partial on purpose: a full `(status, …)` index gained
 * an entry with every transition (dispatch, claim, end) and took a third off the drain
 * (test/operator/operator-latency.bench.ts has the figures).
 */
export class ManagedJobsPostgresOperations1765000000000 implements MigrationInterface {
  name = 'ManagedJobsPostgresOperations1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "managed_job_queues" ("queue" character varying(255) NOT NULL, "paused" boolean NOT NULL DEFAULT false,
      "updated_at" TIMESTAMP(3) NOT NULL, CONSTRAINT "pk_managed_job_queues" PRIMARY KEY ("queue"))`);
    await q.query(`CREATE TABLE "managed_job_workers" ("worker_id" character varying(255) NOT NULL, "hostname" character varying(255) NOT NULL,
      "pid" integer NOT NULL, "queues" jsonb NOT NULL, "concurrency" integer NOT NULL, "running" integer NOT NULL DEFAULT '0',
      "started_at" TIMESTAMP(3) NOT NULL, "last_seen_at" TIMESTAMP(3) NOT NULL, CONSTRAINT "pk_managed_job_workers" PRIMARY KEY ("worker_id"))`);
    await q.query(`CREATE TABLE "managed_job_audit" ("audit_id" uuid NOT NULL, "at" TIMESTAMP(3) NOT NULL, "actor" character varying(255),
      "action" character varying(64) NOT NULL, "target" character varying(1024) NOT NULL, "reason" text, "count" integer NOT NULL DEFAULT '0',
      CONSTRAINT "pk_managed_job_audit" PRIMARY KEY ("audit_id"))`);
    await q.query(`CREATE TABLE "managed_job_logs" ("log_id" uuid NOT NULL, "job_id" uuid NOT NULL, "at" TIMESTAMP(3) NOT NULL,
      "level" character varying(8) NOT NULL, "message" text NOT NULL, "data" jsonb, CONSTRAINT "pk_managed_job_logs" PRIMARY KEY ("log_id"))`);
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
