import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL: the claim of a concurrency-keyed type in one round trip (`managed_jobs_claim_keyed`,
 * called by `claimKeyed` in lib/store/postgres/queue-control.sql.ts).
 *
 * Why a function: a limited claim locks keys, then counts each locked key's running runs in a
 * statement whose snapshot is newer than the lock (see lib/store/limited-claim.ts). From the client
 * that is BEGIN, lock, pick, claim, COMMIT: five round trips, and the completions before them a
 * sixth. A VOLATILE PL/pgSQL function takes a fresh snapshot for each statement it runs, so the
 * same steps, in the same order and with the same locks, run inside one statement: the worker's
 * finished runs (with their ledger rows), the key locks, then the pick and claim. Completed runs
 * come back first, as rows with only `job_id`, `status = 'completed'` and `finished_at` set; the
 * claimed jobs follow, whole.
 *
 * Rate-limited types keep the client-side plan (their tokens are taken per rate key); they wait
 * on their windows, not on round trips.
 */
export class ManagedJobsPostgresKeyedClaim1765300000000 implements MigrationInterface {
  name = 'ManagedJobsPostgresKeyedClaim1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION managed_jobs_claim_keyed(
      p_done_ids uuid[], p_done_fences int[], p_done_results jsonb[], p_done_progress int[], p_done_messages text[],
      p_worker text, p_type text, p_queue text, p_lock_count int, p_limit int, p_per_key int, p_lease_ms float8)
    RETURNS SETOF managed_jobs LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      v_now timestamp := timezone('UTC', now());
      v_keys text[];
    BEGIN
      IF cardinality(p_done_ids) > 0 THEN
        RETURN QUERY WITH done AS (
          UPDATE managed_jobs j SET status = 'completed', result = r.result, progress_percentage = r.progress,
            progress_message = r.message, failed_reason = NULL, lease_owner = NULL, lease_expires_at = NULL,
            finished_at = v_now, updated_at = v_now
          FROM unnest(p_done_ids, p_done_fences, p_done_results, p_done_progress, p_done_messages) AS r(job_id, fence, result, progress, message)
          WHERE j.job_id = r.job_id AND j.fence = r.fence AND j.status = 'running'
          RETURNING j.job_id, j.fence, j.attempts, j.started_at, j.finished_at
        ), ledger AS (
          INSERT INTO managed_job_attempts (job_id, fence, attempt, worker_id, started_at, finished_at, outcome)
          SELECT d.job_id, d.fence, d.attempts, p_worker, d.started_at, d.finished_at, 'completed' FROM done d
        )
        SELECT x.* FROM done d CROSS JOIN LATERAL jsonb_populate_record(NULL::managed_jobs,
          jsonb_build_object('job_id', d.job_id, 'status', 'completed', 'finished_at', d.finished_at)) AS x;
      END IF;

      -- Keys with due jobs, least recently served first; keys another claimer holds are skipped.
      -- The keys come from the due jobs, not from managed_job_keys: a walk of the key index that
      -- jumps from one key to the next (one probe per key with due jobs), so the keys of past
      -- tenants that have nothing queued cost nothing. (Probing every key row for a due job was
      -- 27 ms a claim with 10,000 idle keys, against 2 ms with none.)
      WITH RECURSIVE due(key_name) AS (
        (SELECT j.concurrency_key FROM managed_jobs j WHERE j.status = 'pending' AND j.type = p_type AND j.concurrency_key IS NOT NULL
          AND (j.queue || '') = p_queue AND j.available_at <= v_now ORDER BY j.concurrency_key LIMIT 1)
        UNION ALL
        SELECT (SELECT j.concurrency_key FROM managed_jobs j WHERE j.status = 'pending' AND j.type = p_type AND j.concurrency_key > d.key_name
          AND (j.queue || '') = p_queue AND j.available_at <= v_now ORDER BY j.concurrency_key LIMIT 1)
        FROM due d WHERE d.key_name IS NOT NULL
      )
      SELECT array_agg(s.key_name ORDER BY s.served_at NULLS FIRST, s.key_name) INTO v_keys FROM (
        SELECT k.key_name, k.served_at FROM managed_job_keys k
        WHERE k.type = p_type AND k.key_name = ANY(ARRAY(SELECT d.key_name FROM due d WHERE d.key_name IS NOT NULL))
        ORDER BY k.served_at NULLS FIRST, k.key_name
        LIMIT p_lock_count
        FOR UPDATE OF k SKIP LOCKED) s;
      IF v_keys IS NULL THEN
        RETURN;
      END IF;

      -- A new snapshot, newer than the locks: each key's running count is exact. The writes name
      -- their rows by an array (one primary-key probe each): as a join with \`picked\`, a table
      -- without statistics was planned as a walk of every pending job (12 ms a claim at 8,000).
      RETURN QUERY WITH picked AS (
        SELECT p.job_id, p.key_name FROM unnest(v_keys) WITH ORDINALITY AS k(key_name, turn) CROSS JOIN LATERAL (
          SELECT j.job_id, j.priority, k.key_name, k.turn FROM managed_jobs j
          WHERE j.status = 'pending' AND j.type = p_type AND j.concurrency_key = k.key_name AND (j.queue || '') = p_queue AND j.available_at <= v_now
          ORDER BY j.priority DESC, j.job_id
          LIMIT GREATEST(p_per_key - (SELECT count(*) FROM managed_jobs r
            WHERE r.status = 'running' AND r.type = p_type AND r.concurrency_key = k.key_name)::int, 0)
          FOR UPDATE OF j SKIP LOCKED) p
        ORDER BY p.priority DESC, row_number() OVER (PARTITION BY p.key_name ORDER BY p.priority DESC, p.job_id), p.turn
        LIMIT p_limit
      ), served AS (
        UPDATE managed_job_keys SET served_at = v_now WHERE type = p_type AND key_name = ANY(ARRAY(SELECT picked.key_name FROM picked))
      ), claimed AS (
        UPDATE managed_jobs j SET status = 'running', attempts = j.attempts + 1, fence = j.fence + 1, lease_owner = p_worker,
          lease_expires_at = v_now + make_interval(secs => p_lease_ms / 1000.0), started_at = v_now, finished_at = NULL, updated_at = v_now
        WHERE j.job_id = ANY(ARRAY(SELECT picked.job_id FROM picked)) AND j.status = 'pending'
        RETURNING j.*
      )
      SELECT * FROM claimed ORDER BY claimed.priority DESC, claimed.job_id;
    END
    $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION managed_jobs_claim_keyed(uuid[], int[], jsonb[], int[], text[], text, text, text, int, int, int, float8)`);
  }
}
