import type { MigrationInterface, QueryRunner } from 'typeorm';
import { HOLDS_UNIQUE_KEY } from '../queue-control/unique-predicate.js';

/** SQLite: unique jobs, concurrency keys and rate limits (lib/queue-control); as on PostgreSQL. */
export class ManagedJobsSqliteQueueControl1764500000000 implements MigrationInterface {
  name = 'ManagedJobsSqliteQueueControl1764500000000';

  async up(q: QueryRunner): Promise<void> {
    for (const column of ['unique_key" varchar(255)', 'unique_until" varchar(16)', 'concurrency_key" varchar(255)', 'rate_key" varchar(255)']) {
      await q.query(`ALTER TABLE "managed_jobs" ADD COLUMN "${column}`);
    }
    await q.query(`CREATE UNIQUE INDEX "idx_managed_jobs_unique" ON "managed_jobs" ("type", "unique_key") WHERE ${HOLDS_UNIQUE_KEY}`);
    await q.query(`CREATE INDEX "idx_managed_jobs_ckey" ON "managed_jobs" ("type", "concurrency_key", "priority" DESC, "job_id")
      WHERE "status" = 'pending' AND "concurrency_key" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_managed_jobs_ckey_running" ON "managed_jobs" ("type", "concurrency_key")
      WHERE "status" = 'running' AND "concurrency_key" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_managed_jobs_rkey" ON "managed_jobs" ("type", "rate_key", "priority" DESC, "job_id")
      WHERE "status" = 'pending' AND "rate_key" IS NOT NULL`);
    await q.query(`CREATE TABLE "managed_job_keys" ("type" varchar(255) NOT NULL, "key_name" varchar(255) NOT NULL, "served_at" datetime(3),
      PRIMARY KEY ("type", "key_name"))`);
    await q.query(`CREATE TABLE "managed_job_rate_tokens" ("type" varchar(255) NOT NULL, "key_name" varchar(255) NOT NULL,
      "slot" integer NOT NULL, "until" datetime(3) NOT NULL, PRIMARY KEY ("type", "key_name", "slot"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "managed_job_rate_tokens"`);
    await q.query(`DROP TABLE "managed_job_keys"`);
    for (const index of ['rkey', 'ckey_running', 'ckey', 'unique']) await q.query(`DROP INDEX "idx_managed_jobs_${index}"`);
    for (const column of ['rate_key', 'concurrency_key', 'unique_until', 'unique_key']) await q.query(`ALTER TABLE "managed_jobs" DROP COLUMN "${column}"`);
  }
}
