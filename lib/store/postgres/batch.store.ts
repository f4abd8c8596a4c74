import type { EntityManager } from 'typeorm';
import { NOTIFY_CHANNEL } from '../../managed-jobs.constants.js';
import type { BatchDriver, BatchOp, BatchProgram, MemberEnds } from '../batch-store.interface.js';
import { batchSql } from '../batch.sql.js';
import { toJob } from '../row-mapper.js';
import { WAKE_PREFIX, encodeDispatched } from '../wake-message.js';
import { NOW, type Sql } from './common.sql.js';
import { insertJobs, retryJob } from './jobs.sql.js';
import { keepingEndedCounts } from './ended-counts.js';
import { lockEndedMark, shiftEnded } from './ended-counts.sql.js';
import type { PostgresConnection } from './postgres.connection.js';
import { completeJobs, failJob, stopJob } from './run-end.sql.js';
import { endMembers } from './member-ends.sql.js';

/** Workflow programs on PostgreSQL: one READ COMMITTED transaction on one pooled client. */
export class PostgresBatchStore implements BatchDriver {
  readonly endsMembersInOneStatement = true;
  readonly sql = batchSql({ now: NOW, forUpdate: ' FOR UPDATE', numbered: true, jsonText: (c) => `${c}::text`, count: 'count(*)::int', returning: true });

  constructor(private readonly db: PostgresConnection) {}

  /** A deadlock (40P01) or serialisation failure rolls back; the program runs again from the start. */
  async run<T>(make: () => BatchProgram<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(make);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code !== '40P01' && code !== '40001') || attempt >= 8) throw error;
        await new Promise((r) => setTimeout(r, Math.min(50, 2 * attempt) * (0.5 + Math.random())));
      }
    }
  }

  private async runOnce<T>(make: () => BatchProgram<T>): Promise<T> {
    const client = await this.db.pool.connect();
    let broken = false;
    const q = async (s: Sql, prepared = false) =>
      client.query({ name: prepared ? this.db.statementName(s.text) : undefined, text: s.text, values: s.values, types: this.db.types });
    try {
      await client.query('BEGIN');
      const program = make();
      let step = program.next();
      while (!step.done) step = program.next(await this.exec(q, step.value));
      await client.query('COMMIT');
      return step.value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async runWith<T>(manager: EntityManager, make: () => BatchProgram<T>): Promise<T> {
    const q = async (s: Sql) => {
      const r = await manager.query(s.text, s.values);
      // TypeORM's postgres driver answers an UPDATE with [rows, count].
      return Array.isArray(r) && r.length === 2 && typeof r[1] === 'number' ? { rows: r[0], rowCount: r[1] } : { rows: r, rowCount: Array.isArray(r) ? r.length : 0 };
    };
    const program = make();
    let step = program.next();
    while (!step.done) step = program.next(await this.exec(q, step.value));
    return step.value;
  }

  async read(s: Sql): Promise<any[]> {
    return this.db.query(s);
  }

  /**
   * `q(s, true)`: a statement of fixed text, prepared. A prepared statement's plan is generic after
   * a few runs, and the generic plan of a completion walks the given runs and probes each one's
   * primary key; planned for each call's arrays instead (unnamed), 200 completions were planned as
   * a hash join over a scan of the whole table (bench batch10: 34 ms a statement at 10,000 jobs).
   */
  private async exec(q: (s: Sql, prepared?: boolean) => Promise<{ rows: any[]; rowCount: number | null }>, op: BatchOp): Promise<unknown> {
    switch (op.op) {
      case 'all':
        return (await q(op.q)).rows;
      case 'run':
        return (await q(op.q)).rowCount ?? 0;
      case 'insert':
        return (await q(insertJobs(op.jobs, NOTIFY_CHANNEL, encodeDispatched(new Set(op.jobs.map((j) => j.queue)), ''), op.members))).rows;
      case 'complete':
        return (await q(completeJobs(op.runs, op.workerId), true)).rows.map((r) => r.job_id);
      case 'fail': {
        const [row] = (await q(failJob(op.run, op.workerId))).rows;
        return row ? toJob(row) : null;
      }
      case 'stop': {
        const [row] = (await q(stopJob(op.jobId, op.scope, NOTIFY_CHANNEL, WAKE_PREFIX.stopRequested))).rows;
        return row ? toJob(row) : null;
      }
      case 'retry': {
        const retry = retryJob(op.jobId, op.tries, op.retryUntil, op.scope, NOTIFY_CHANNEL, WAKE_PREFIX.dispatched);
        const [row] = (await keepingEndedCounts(q, [op.jobId], () => q(retry))).rows;
        return row ? toJob(row) : null;
      }
      case 'endedCounts':
        if (op.sign < 0) await q(lockEndedMark());
        await q(shiftEnded(op.jobIds, op.sign));
        return undefined;
      case 'wake':
        await q({ text: `SELECT pg_notify($1, $2)`, values: [NOTIFY_CHANNEL, encodeDispatched(new Set(op.queues), '')] });
        return undefined;
      case 'endMembers':
        return memberEnds((await q(endMembers(op.items, op.workerId), true)).rows);
    }
  }
}

/** The one row of `endMembers`: the batch columns are those of the moved batch (null when none moved). */
function memberEnds(rows: any[]): MemberEnds {
  const [first] = rows;
  return {
    done: first?.done_ids ?? [],
    dependents: first ? first.dependent_ids : null,
    batches: rows
      .filter((r) => r.batch_id !== null)
      .map(({ done_ids, dependent_ids, ended_now, ...row }) => ({ batchId: row.batch_id, row, finished: ended_now === true })),
  };
}
