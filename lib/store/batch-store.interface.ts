import type { EntityManager } from 'typeorm';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { BatchRow } from '../workflows/batch-row.js';
import type { Completion, Failure, NewJob, ScopeFilter } from './job-store.interface.js';

/**
 * How the workflow programs (lib/workflows/batch-programs.ts) talk to a database: a program is a
 * generator that yields `BatchOp`s and gets each one's answer back. A dialect's `BatchDriver` runs
 * a whole program in ONE transaction of its own connection (SQLite: synchronously, inside one
 * immediate transaction; PostgreSQL, MySQL: one pooled connection, READ COMMITTED), or through a
 * caller's `EntityManager` (batch creation inside the caller's transaction). One program, three
 * dialects: what differs is the SQL text (`batch.sql.ts`) and how a run ends (each dialect's own
 * run-end builders).
 */
export type BatchOp =
  /** Rows of a read (or of a write that returns rows). */
  | { op: 'all'; q: { text: string; values: unknown[] } }
  /** Rows matched by a write. */
  | { op: 'run'; q: { text: string; values: unknown[] } }
  /**
   * Plain inserts (no queue-control keys); with `members`, the jobs are written as that batch's
   * members (`keys[i]` of `jobs[i]`), by the insert itself where the dialect can (PostgreSQL),
   * else by `markMembers` right after it.
   */
  | { op: 'insert'; jobs: NewJob[]; members?: MemberColumns }
  /** The dialect's completion of runs (job rows and ledger rows); answers the ids of those still theirs. */
  | { op: 'complete'; runs: Completion[]; workerId: string }
  /** The dialect's failure of one run; answers the job row, or null when the run was no longer its. */
  | { op: 'fail'; run: Failure; workerId: string }
  /** The dialect's `stop()` of one job (ledger, wake-up of its worker); answers the job row or null. */
  | { op: 'stop'; jobId: string; scope?: ScopeFilter }
  /** The dialect's `retry()` of one job; answers the job row or null. */
  | { op: 'retry'; jobId: string; tries: number; retryUntil: Date | null; scope?: ScopeFilter }
  /**
   * Keep the ended counts of `stats()` right around a write that may take these jobs out of an
   * ended status: -1 before it (the first one takes the counts' lock), +1 after it.
   */
  | { op: 'endedCounts'; jobIds: string[]; sign: 1 | -1 }
  /** Tell workers that jobs of these queues became due (on commit). */
  | { op: 'wake'; queues: string[] }
  /**
   * Only where `BatchDriver.endsMembersInOneStatement`: members' completions in one statement (their
   * batch rows locked in id order first, the runs completed with their ledger rows, the counters
   * moved, the batches whose last member this was ended, the completed members' dependents read
   * when the statement's snapshot already saw the locked batch rows); answers `MemberEnds`.
   */
  | { op: 'endMembers'; items: Array<{ jobId: string; batchId: string; completion: Completion }>; workerId: string };

/** What members' completions did: the runs completed, each batch moved (in batch id order), the dependents to release. */
export interface MemberEnds {
  done: string[];
  batches: Array<{ batchId: string; row: BatchRow | null; /** its last member was one of these */ finished: boolean }>;
  /**
   * The completed members' dependents, or null when they must be read by a statement of their own
   * (one that sees everything committed before the batch locks were granted).
   */
  dependents: string[] | null;
}

/** The batch columns of inserted members. */
export interface MemberColumns {
  batchId: string;
  keys: (string | null)[];
}

export type BatchProgram<T> = Generator<BatchOp, T, any>;

export interface BatchDriver {
  readonly sql: import('./batch.sql.js').BatchSql;
  /**
   * Run a program in one transaction of the store's connection. `program` makes a fresh generator:
   * a transaction rolled back by a deadlock (MySQL) runs it again from the start.
   */
  run<T>(program: () => BatchProgram<T>): Promise<T>;
  /** Run a program through the caller's transaction (only `all`, `run`, `insert`). */
  runWith<T>(manager: EntityManager, program: () => BatchProgram<T>): Promise<T>;
  /** A read outside any transaction. */
  read(q: { text: string; values: unknown[] }): Promise<any[]>;
  /** Whether `endMembers` is one statement here (PostgreSQL); elsewhere members' completions take a few. */
  readonly endsMembersInOneStatement?: boolean;
}

export type { ManagedJobEntity };
