/**
 * The workflow statements (batches, chains, DAGs), one function per statement returning
 * `{ text, values }`. The texts are the same on the three dialects but for what `BatchDialect`
 * says (the clock, row locks, `$n` placeholders, JSON as text), so they are written once here and
 * instantiated by each dialect's `batch.store.ts`.
 *
 * Design notes:
 * - Every program that changes a batch first locks its row (`lockBatch` / `lockBatches`, in batch
 *   id order; SQLite's immediate transaction is the lock), before it touches a member. Member ends
 *   of one batch are therefore serialised and, under READ COMMITTED, every statement after the
 *   lock sees what the previous holder committed: "are all of X's dependencies completed?" and
 *   "was that the last member?" are answered on committed data. Two dependencies completing at
 *   once cannot both miss the dependent, and only one finisher sees the batch's last member
 *   (`finishBatch` is also conditional on `running`). Since no transaction holds a member row
 *   while waiting for a batch row, a failFast that stops running members cannot deadlock with
 *   their own run ends. Completions are written many per transaction (see workflows.ts), so the
 *   lock is taken once for all the members of a batch that finished together.
 * - Counters (`completed`, `failed`, `stopped`) move by the rows each program changed, in the
 *   transaction that changed them: never a count over the members.
 * - No statement updates `managed_jobs` with a subquery on `managed_jobs` (MySQL refuses it):
 *   candidates are read first, then written by id, under the batch lock.
 * - A dependency is a row of `managed_job_dependencies` (`job_id` waits for `depends_on`).
 */
import type { ScopeFilter } from './job-store.interface.js';
import type { NewBatchRow } from '../workflows/batch-row.js';

export interface Sql {
  text: string;
  values: unknown[];
}

export interface BatchDialect {
  /** The database clock, UTC. */
  now: string;
  /** Row lock of a read (`FOR UPDATE`), or '' where the transaction itself is the lock. */
  forUpdate: string;
  /** `$n` placeholders (PostgreSQL) instead of `?`. */
  numbered: boolean;
  /** A JSON column read as text. */
  jsonText(column: string): string;
  /** A count read as a number. */
  count: string;
  /** `UPDATE … RETURNING *` exists (PostgreSQL, SQLite); else the row is read after the update. */
  returning: boolean;
}

const list = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Ids per statement that names members by id. */
export const ID_CHUNK = 500;

export function batchSql(d: BatchDialect) {
  const sql = (text: string, values: unknown[]): Sql => {
    if (!d.numbered) return { text, values };
    let i = 0;
    return { text: text.replace(/\?/g, () => `$${++i}`), values };
  };
  const NOW = d.now;
  return {
    insertBatch(b: NewBatchRow): Sql {
      return sql(
        `INSERT INTO managed_job_batches (batch_id, name, status, total, completed, failed, stopped, failure_policy, failure_threshold,
          callbacks, callbacks_sent, owner_user_id, owner_tenant_id, triggered_by_user_id, created_at, updated_at)
        VALUES (?, ?, 'running', ?, 0, 0, 0, ?, ?, ?, 0, ?, ?, ?, ${NOW}, ${NOW})`,
        [b.batchId, b.name, b.total, b.failurePolicy, b.failureThreshold, b.callbacks, b.ownerUserId, b.ownerTenantId, b.triggeredByUserId],
      );
    },

    /** The batch row, locked until the transaction ends. */
    lockBatch(batchId: string): Sql {
      return sql(`SELECT * FROM managed_job_batches WHERE batch_id = ?${d.forUpdate}`, [batchId]);
    },

    findBatch(batchId: string, scope?: ScopeFilter): Sql {
      const values: unknown[] = [batchId];
      let where = '';
      if (scope?.ownerUserId != null) {
        values.push(scope.ownerUserId);
        where += ` AND owner_user_id = ?`;
      }
      if (scope && scope.ownerTenantId === null) where += ` AND owner_tenant_id IS NULL`;
      else if (scope) {
        values.push(scope.ownerTenantId);
        where += ` AND owner_tenant_id = ?`;
      }
      return sql(`SELECT * FROM managed_job_batches WHERE batch_id = ?${where}`, values);
    },

    /** Members by status (`findBatch`): one range of the batch index. */
    memberCounts(batchId: string): Sql {
      return sql(`SELECT status, ${d.count} AS n FROM managed_jobs WHERE batch_id = ? GROUP BY status`, [batchId]);
    },

    /** Running members (a progress event's `running`): a few entries of the batch index. */
    countRunning(batchId: string): Sql {
      return sql(`SELECT ${d.count} AS n FROM managed_jobs WHERE batch_id = ? AND status = 'running'`, [batchId]);
    },

    /** Moves the counters; returns the row after (`returning`), which also locks it until the transaction ends. */
    bumpBatch(batchId: string, delta: { total?: number; completed?: number; failed?: number; stopped?: number }): Sql {
      return sql(
        `UPDATE managed_job_batches SET total = total + ?, completed = completed + ?, failed = failed + ?, stopped = stopped + ?,
          updated_at = ${NOW} WHERE batch_id = ?${d.returning ? ' RETURNING *' : ''}`,
        [delta.total ?? 0, delta.completed ?? 0, delta.failed ?? 0, delta.stopped ?? 0, batchId],
      );
    },

    /** Ends a running batch; matches no row when it already ended (whoever ended it dispatched its callbacks). */
    finishBatch(batchId: string, status: string): Sql {
      return sql(`UPDATE managed_job_batches SET status = ?, finished_at = ${NOW}, updated_at = ${NOW} WHERE batch_id = ? AND status = 'running'`, [
        status,
        batchId,
      ]);
    },

    reopenBatch(batchId: string): Sql {
      return sql(`UPDATE managed_job_batches SET status = 'running', finished_at = NULL, updated_at = ${NOW} WHERE batch_id = ? AND status <> 'running'`, [
        batchId,
      ]);
    },

    /** Claims callback `bit` (1 then, 2 catch, 4 finally) for dispatch; matches no row when it was claimed before. */
    claimCallback(batchId: string, bit: number): Sql {
      return sql(`UPDATE managed_job_batches SET callbacks_sent = callbacks_sent + ? WHERE batch_id = ? AND (callbacks_sent & ?) = 0`, [bit, batchId, bit]);
    },

    /** Marks inserted jobs as members (`keys[i]` of `ids[i]`), or as the batch's callback job. */
    markMembers(batchId: string, ids: string[], keys: (string | null)[]): Sql {
      const keyed = ids.map((id, i) => [id, keys[i]] as const).filter(([, k]) => k !== null);
      const keyCase = keyed.length ? `CASE job_id ${keyed.map(() => 'WHEN ? THEN ?').join(' ')} ELSE NULL END` : 'NULL';
      return sql(`UPDATE managed_jobs SET batch_id = ?, batch_key = ${keyCase} WHERE job_id IN (${list(ids.length)})`, [
        batchId,
        ...keyed.flat(),
        ...ids,
      ]);
    },

    /** `markMembers` for inserted members, `ID_CHUNK` at a time (dialects whose insert cannot write them). */
    markInserted(ids: string[], members: { batchId: string; keys: (string | null)[] }): Sql[] {
      const out: Sql[] = [];
      for (let i = 0; i < ids.length; i += ID_CHUNK) out.push(this.markMembers(members.batchId, ids.slice(i, i + ID_CHUNK), members.keys.slice(i, i + ID_CHUNK)));
      return out;
    },

    markCallback(batchId: string, jobId: string): Sql {
      return sql(`UPDATE managed_jobs SET callback_batch_id = ? WHERE job_id = ?`, [batchId, jobId]);
    },

    setWaiting(ids: string[]): Sql {
      return sql(`UPDATE managed_jobs SET status = 'waiting' WHERE status = 'pending' AND job_id IN (${list(ids.length)})`, ids);
    },

    insertDependencies(edges: Array<[string, string]>): Sql {
      return sql(`INSERT INTO managed_job_dependencies (job_id, depends_on) VALUES ${edges.map(() => '(?, ?)').join(', ')}`, edges.flat());
    },

    /** Existing members by key (`ctx.batch.add` names them in `dependsOn`). */
    membersByKey(batchId: string, keys: string[]): Sql {
      return sql(`SELECT job_id, batch_key, status FROM managed_jobs WHERE batch_id = ? AND batch_key IN (${list(keys.length)})`, [batchId, ...keys]);
    },

    /** Waiting members among `ids` whose every dependency has completed. */
    ready(ids: string[]): Sql {
      return sql(
        `SELECT j.job_id, j.queue FROM managed_jobs j WHERE j.job_id IN (${list(ids.length)}) AND j.status = 'waiting'
          AND NOT EXISTS (SELECT 1 FROM managed_job_dependencies d JOIN managed_jobs p ON p.job_id = d.depends_on
            WHERE d.job_id = j.job_id AND p.status <> 'completed')`,
        ids,
      );
    },

    /** The direct dependents of these members. */
    dependents(jobIds: string[]): Sql {
      return sql(`SELECT DISTINCT job_id FROM managed_job_dependencies WHERE depends_on IN (${list(jobIds.length)})`, jobIds);
    },

    /** Every member that depends on `jobId`, directly or not. */
    dependentsClosure(jobId: string): Sql {
      return sql(
        `WITH RECURSIVE r (job_id) AS (SELECT job_id FROM managed_job_dependencies WHERE depends_on = ?
          UNION SELECT d.job_id FROM managed_job_dependencies d JOIN r ON d.depends_on = r.job_id)
        SELECT job_id FROM r`,
        [jobId],
      );
    },

    setPending(ids: string[]): Sql {
      return sql(`UPDATE managed_jobs SET status = 'pending', available_at = ${NOW}, updated_at = ${NOW} WHERE status = 'waiting' AND job_id IN (${list(ids.length)})`, ids);
    },

    /** Unstarted members among `ids` → `stopped`, remembering which failure stopped them. */
    stopUnstarted(ids: string[], reason: string, stoppedBy: string | null): Sql {
      return sql(
        `UPDATE managed_jobs SET status = 'stopped', failed_reason = ?, batch_stopped_by = ?, finished_at = ${NOW}, updated_at = ${NOW}
        WHERE status IN ('waiting', 'pending') AND job_id IN (${list(ids.length)})`,
        [reason, stoppedBy, ...ids],
      );
    },

    /** Members in these statuses. */
    membersIn(batchId: string, statuses: string[]): Sql {
      return sql(`SELECT job_id, queue FROM managed_jobs WHERE batch_id = ? AND status IN (${list(statuses.length)})`, [batchId, ...statuses]);
    },

    /** Running members to stop, locked (a member's own run end takes the batch lock first, so it cannot hold one of these while waiting for us). */
    runningLocked(batchId: string): Sql {
      return sql(`SELECT job_id FROM managed_jobs WHERE batch_id = ? AND status = 'running'${d.forUpdate}`, [batchId]);
    },

    /**
     * Several batch rows locked in one order (batch id), so that two transactions never wait on
     * each other's; returns them as they are once locked (the committed rows: what the counter
     * moves of `endBatches` start from).
     */
    lockBatches(batchIds: string[]): Sql {
      return sql(`SELECT * FROM managed_job_batches WHERE batch_id IN (${list(batchIds.length)}) ORDER BY batch_id${d.forUpdate}`, batchIds);
    },

    /**
     * Members' completions of several locked batches in one statement: `completed` moves by each
     * one's count, and those whose last member this was end with their `status` (decided under
     * the lock, from the row `lockBatches` returned). Returns the rows after where `returning`.
     */
    completeInBatches(moves: Array<{ batchId: string; completed: number; status: string | null }>): Sql {
      const ids = moves.map((m) => m.batchId);
      const ending = moves.filter((m) => m.status !== null);
      const values: unknown[] = moves.flatMap((m) => [m.batchId, m.completed]);
      let set = `completed = completed + CASE batch_id ${moves.map(() => 'WHEN ? THEN ?').join(' ')} ELSE 0 END`;
      if (ending.length) {
        set += `, status = CASE batch_id ${ending.map(() => 'WHEN ? THEN ?').join(' ')} ELSE status END,
          finished_at = CASE WHEN batch_id IN (${list(ending.length)}) THEN ${NOW} ELSE finished_at END`;
        values.push(...ending.flatMap((m) => [m.batchId, m.status]), ...ending.map((m) => m.batchId));
      }
      return sql(
        `UPDATE managed_job_batches SET ${set}, updated_at = ${NOW} WHERE batch_id IN (${list(ids.length)})${d.returning ? ' RETURNING *' : ''}`,
        [...values, ...ids],
      );
    },

    /** Running members stopped by a failure: remember it, so that retrying that failure revives them. */
    markStoppedBy(ids: string[], reason: string, stoppedBy: string | null): Sql {
      return sql(`UPDATE managed_jobs SET batch_stopped_by = ?, failed_reason = ? WHERE status = 'stopped' AND job_id IN (${list(ids.length)})`, [
        stoppedBy,
        reason,
        ...ids,
      ]);
    },

    stoppedBy(batchId: string, jobId: string): Sql {
      return sql(`SELECT job_id FROM managed_jobs WHERE batch_id = ? AND status = 'stopped' AND batch_stopped_by = ?`, [batchId, jobId]);
    },

    /** Stopped members back to `waiting` (then `ready` decides which can run now). */
    revive(ids: string[]): Sql {
      return sql(
        `UPDATE managed_jobs SET status = 'waiting', batch_stopped_by = NULL, failed_reason = NULL, finished_at = NULL, updated_at = ${NOW}
        WHERE status = 'stopped' AND job_id IN (${list(ids.length)})`,
        ids,
      );
    },

    /** The stored result of each direct dependency, by key. */
    dependencyResults(jobId: string): Sql {
      return sql(
        `SELECT p.batch_key, ${d.jsonText('p.result')} AS result FROM managed_job_dependencies d JOIN managed_jobs p ON p.job_id = d.depends_on
        WHERE d.job_id = ?`,
        [jobId],
      );
    },

    memberStatus(jobId: string): Sql {
      return sql(`SELECT job_id, status, batch_id, queue FROM managed_jobs WHERE job_id = ?`, [jobId]);
    },
  };
}

export type BatchSql = ReturnType<typeof batchSql>;
