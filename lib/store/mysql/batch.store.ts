import type { EntityManager } from 'typeorm';
import type { BatchDriver, BatchOp, BatchProgram } from '../batch-store.interface.js';
import { batchSql } from '../batch.sql.js';
import { toJob } from '../row-mapper.js';
import { NOW, dbNow, selectJob, type Sql } from './common.sql.js';
import { insertJobs, retryJob } from './jobs.sql.js';
import { keepingEndedCounts } from './ended-counts.js';
import { lockEndedMark, shiftEnded } from './ended-counts.sql.js';
import type { MysqlConnection, MysqlTransaction } from './mysql.connection.js';
import { bumpWakeups } from './notify.sql.js';
import { completeJob, completedAttempts, failJob, failedAttempt, stopJob, stoppableJob, stoppedAttempt } from './run-end.sql.js';

/**
 * Workflow programs on MySQL/MariaDB: one READ COMMITTED transaction (after the batch row's lock,
 * every read sees what the previous holder committed). Wake-ups bump the change counter.
 */
export class MysqlBatchStore implements BatchDriver {
  readonly sql = batchSql({ now: NOW, forUpdate: ' FOR UPDATE', numbered: false, jsonText: (c) => `CAST(${c} AS CHAR)`, count: 'count(*)', returning: false });

  constructor(private readonly db: MysqlConnection) {}

  run<T>(make: () => BatchProgram<T>): Promise<T> {
    // A deadlock rolls back and runs the transaction again, with a fresh program.
    return this.db.transaction(async (tx) => {
      const program = make();
      let step = program.next();
      while (!step.done) step = program.next(await this.exec(tx, step.value));
      return step.value;
    }, true);
  }

  async runWith<T>(manager: EntityManager, make: () => BatchProgram<T>): Promise<T> {
    const tx: MysqlTransaction = {
      query: async (q) => manager.query(q.text, q.values),
      run: async (q) => {
        const r: any = await manager.query(q.text, q.values);
        return r?.affectedRows ?? 0;
      },
    };
    const program = make();
      let step = program.next();
    while (!step.done) step = program.next(await this.exec(tx, step.value));
    return step.value;
  }

  async read(q: Sql): Promise<any[]> {
    return this.db.query(q);
  }

  private async exec(tx: MysqlTransaction, op: BatchOp): Promise<unknown> {
    switch (op.op) {
      case 'all':
        return tx.query(op.q);
      case 'run':
        return tx.run(op.q);
      case 'insert': {
        const [{ db_now: now }] = await tx.query(dbNow());
        await tx.run(insertJobs(op.jobs, now));
        if (op.members) for (const q of this.sql.markInserted(op.jobs.map((j) => j.jobId), op.members)) await tx.run(q);
        return undefined;
      }
      case 'complete': {
        const [{ db_now: now }] = await tx.query(dbNow());
        const done: string[] = [];
        for (const run of op.runs) if (await tx.run(completeJob(run, now))) done.push(run.jobId);
        if (done.length) await tx.run(completedAttempts(done, op.workerId));
        return done;
      }
      case 'fail': {
        if (!(await tx.run(failJob(op.run)))) return null;
        await tx.run(failedAttempt(op.run, op.workerId));
        return toJob((await tx.query(selectJob(op.run.jobId)))[0]);
      }
      case 'stop': {
        const [old] = await tx.query(stoppableJob(op.jobId, op.scope));
        if (!old || !(await tx.run(stopJob(old)))) return null;
        const ledger = stoppedAttempt(old);
        if (ledger) await tx.run(ledger);
        await tx.run(bumpWakeups());
        return toJob((await tx.query(selectJob(op.jobId)))[0]);
      }
      case 'retry': {
        if (!(await keepingEndedCounts(tx, [op.jobId], () => tx.run(retryJob(op.jobId, op.tries, op.retryUntil, op.scope))))) return null;
        await tx.run(bumpWakeups());
        return toJob((await tx.query(selectJob(op.jobId)))[0]);
      }
      case 'endedCounts':
        if (op.sign < 0) await tx.query(lockEndedMark());
        await tx.run(shiftEnded(op.jobIds, op.sign));
        return undefined;
      case 'wake':
        await tx.run(bumpWakeups());
        return undefined;
    }
  }
}
