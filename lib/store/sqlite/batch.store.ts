import type { EntityManager } from 'typeorm';
import type { BatchDriver, BatchOp, BatchProgram } from '../batch-store.interface.js';
import { batchSql } from '../batch.sql.js';
import { toJob, utcText } from '../row-mapper.js';
import { NOW, type Sql } from './common.sql.js';
import { insertJob, retryJob } from './jobs.sql.js';
import { keepingEndedCounts } from './ended-counts.js';
import { shiftEnded } from './ended-counts.sql.js';
import { completeJob, completedAttempt, failJob, failedAttempt, stopJob, stoppableJob, stoppedAttempt } from './run-end.sql.js';
import type { SqliteConnection } from './sqlite.connection.js';

/**
 * Workflow programs on SQLite: run synchronously inside one immediate transaction (the write lock
 * is the batch lock). Wake-ups need no message: other processes notice the commit.
 */
export class SqliteBatchStore implements BatchDriver {
  readonly sql = batchSql({ now: NOW, forUpdate: '', numbered: false, jsonText: (c) => c, count: 'count(*)', returning: true });

  constructor(private readonly db: SqliteConnection) {}

  run<T>(make: () => BatchProgram<T>): Promise<T> {
    return this.db.write(() => {
      const program = make();
      let step = program.next();
      while (!step.done) step = program.next(this.exec(step.value));
      return step.value;
    });
  }

  async runWith<T>(manager: EntityManager, make: () => BatchProgram<T>): Promise<T> {
    const program = make();
      let step = program.next();
    while (!step.done) {
      const op = step.value;
      let answer: unknown;
      if (op.op === 'insert') {
        for (const j of op.jobs) {
          const q = insertJob(j);
          await manager.query(q.text, q.values);
        }
        if (op.members) for (const q of this.sql.markInserted(op.jobs.map((j) => j.jobId), op.members)) await manager.query(q.text, q.values);
      } else if (op.op === 'all') answer = await manager.query(op.q.text, op.q.values);
      else if (op.op === 'run') {
        const r: any = await manager.query(op.q.text, op.q.values);
        answer = typeof r?.changes === 'number' ? r.changes : Array.isArray(r) ? r.length : 0;
      } else if (op.op !== 'wake') throw new Error(`${op.op} is not available inside a caller's transaction`);
      step = program.next(answer);
    }
    return step.value;
  }

  async read(q: Sql): Promise<any[]> {
    return this.db.all(q);
  }

  private exec(op: BatchOp): unknown {
    switch (op.op) {
      case 'all':
        return this.db.all(op.q);
      case 'run':
        return this.db.run(op.q);
      case 'insert':
        for (const j of op.jobs) this.db.get(insertJob(j));
        if (op.members) for (const q of this.sql.markInserted(op.jobs.map((j) => j.jobId), op.members)) this.db.run(q);
        return undefined;
      case 'complete': {
        const now = utcText(new Date());
        const done: string[] = [];
        for (const run of op.runs) {
          const row = this.db.get(completeJob(run, now));
          if (!row) continue;
          this.db.run(completedAttempt(run, row, op.workerId));
          done.push(run.jobId);
        }
        return done;
      }
      case 'fail': {
        const row = this.db.get(failJob(op.run));
        if (row) this.db.run(failedAttempt(op.run, row, op.workerId));
        return row ? toJob(row) : null;
      }
      case 'stop': {
        const old = this.db.get(stoppableJob(op.jobId, op.scope));
        const stopped = old && this.db.get(stopJob(old));
        const ledger = stopped && stoppedAttempt(old, stopped);
        if (ledger) this.db.run(ledger);
        return stopped ? toJob(stopped) : null;
      }
      case 'retry': {
        const row = keepingEndedCounts(this.db, [op.jobId], () => this.db.get(retryJob(op.jobId, op.tries, op.retryUntil, op.scope)));
        return row ? toJob(row) : null;
      }
      case 'endedCounts':
        this.db.run(shiftEnded(op.jobIds, op.sign));
        return undefined;
      case 'wake':
        return undefined;
    }
  }
}
