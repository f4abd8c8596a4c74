import type { MigrationInterface, QueryRunner } from 'typeorm';
import { HOLDS_UNIQUE_KEY } from '../queue-control/unique-predicate.js';

/**
 * PostgreSQL: unique jobs, concurrency keys and rate limits (lib/queue-control). Plain jobs leave
 * every new column null and no new index holds them: their writes cost what they did.
 */
export class ManagedJobsPostgresQueueControl1764500000000 implements MigrationInterface {
  name = 'ManagedJobsPostgresQueueControl1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "managed_jobs" ADD "unique_key" character varying(255), ADD "unique_until" character varying(16),
      ADD "concurrency_key" character varying(255), ADD "rate_key" character varying(255)`);
    // The database enforces uniqueness: the index holds exactly the jobs that hold their key.
    await q.query(`CREATE UNIQUE INDEX "idx_managed_jobs_unique" ON "managed_jobs" ("type", "unique_key") WHERE ${HOLDS_UNIQUE_KEY}`);
    // A limited claim takes a key's next jobs in claim order, and counts its running ones, each from a few index entries.
    await q.query(`CREATE INDEX "idx_managed_jobs_ckey" ON "managed_jobs" ("type", "concurrency_key", "priority" DESC, "job_id")
      WHERE "status" = 'pending' AND "concurrency_key" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_managed_jobs_ckey_running" ON "managed_jobs" ("type", "concurrency_key")
      WHERE "status" = 'running' AND "concurrency_key" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_managed_jobs_rkey" ON "managed_jobs" ("type", "rate_key", "priority" DESC, "job_id")
      WHERE "status" = 'pending' AND "rate_key" IS NOT NULL`);
    // One row per (type, key) of limited jobs: what claimers lock (SKIP LOCKED) and the round-robin order.
    await q.query(`CREATE TABLE "managed_job_keys" ("type" character varying(255) NOT NULL, "key_name" character varying(255) NOT NULL,
      "served_at" TIMESTAMP(3), CONSTRAINT "pk_managed_job_keys" PRIMARY KEY ("type", "key_name"))`);
    // `max` tokens per (type, rate key): a start takes a free one (`until` passed) for one window.
    await q.query(`CREATE TABLE "managed_job_rate_tokens" ("type" character varying(255) NOT NULL, "key_name" character varying(255) NOT NULL,
      "slot" integer NOT NULL, "until" TIMESTAMP(3) NOT NULL, CONSTRAINT "pk_managed_job_rate_tokens" PRIMARY KEY ("type", "key_name", "slot"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_rate_tokens"`);
    await q.query(`DROP TABLE "managed_job_keys"`);
    await q.query(`DROP INDEX "idx_managed_jobs_rkey"`);
    await q.query(`DROP INDEX "idx_managed_jobs_ckey_running"`);
    await q.query(`DROP INDEX "idx_managed_jobs_ckey"`);
    await q.query(`DROP INDEX "idx_managed_jobs_unique"`);
    await q.query(`ALTER TABLE "managed_jobs" DROP COLUMN "rate_key", DROP COLUMN "concurrency_key", DROP COLUMN "unique_until", DROP COLUMN "unique_key"`);
  }
}
