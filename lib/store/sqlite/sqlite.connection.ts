import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type BetterSqlite3 from 'better-sqlite3';
import { SQLITE_MEMORY } from '../../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../../errors/managed-jobs.errors.js';
import type { Sql } from './common.sql.js';

/** SQLite's default: a commit that leaves more pages than this in the write-ahead log checkpoints it. */
const WAL_AUTOCHECKPOINT_PAGES = 1000;

/** How long a write may keep meeting a lock held by another connection before it gives up. */
const BUSY_DEADLINE_MS = 30_000;

/**
 * Prepared statements kept at most. The texts are few (one per statement shape, none built from
 * request data), so this bound only matters against a shape we did not foresee: oldest prepared
 * first out. Not least recently used: moving a hit to the end of the `Map` (a delete and a set, two
 * per job on the hot path) churned a long-lived `Map`, which V8 rebuilds in the old generation
 * every few writes; with the worker's run `Map` and in-flight `Set` (lib/worker/run-slots.ts) it
 * kept the worker's RSS growing through a drain (issue 19, figures in run-slots.ts).
 */
const MAX_STATEMENTS = 200;

/**
 * The SQLite store parts' own connection to the app's database file, with its statements
 * prepared once per text.
 *
 * Why a second connection: TypeORM's better-sqlite3 driver has a single connection, so a caller's
 * open transaction would be visible to (and joined by) anything else on it: the worker could
 * claim a job whose dispatch is later rolled back. Our connection sees committed rows only.
 *
 * Locking: WAL lets readers and one writer proceed together. Our writes are short synchronous
 * transactions; when another connection holds the write lock we wait at most `busy_timeout`
 * (a few ms, so the event loop is never blocked for long, and a caller's open transaction in this
 * same process can finish) and then retry asynchronously with jitter. "database is locked" never
 * reaches a caller unless the lock is held for `BUSY_DEADLINE_MS`.
 */
export class SqliteConnection {
  readonly db: BetterSqlite3.Database;
  /** The driver module TypeORM uses (a lease keeper thread loads the very same copy). */
  readonly Database: typeof BetterSqlite3;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** Row builders of the statements that return rows (read in raw mode, see `rowsOf`). */
  private readonly rowBuilders = new WeakMap<BetterSqlite3.Statement, RowBuilder>();
  /**
   * One transaction function for every write, made once: `db.transaction(fn)` builds its wrappers
   * anew on each call, which was a tenth of a one-by-one dispatch's time (measured, bench enqSingle).
   */
  private readonly transaction: BetterSqlite3.Transaction<(fn: () => unknown) => unknown>;
  /**
   * \`PRAGMA data_version\`, prepared once: \`db.pragma()\` prepares its statement on every call, and
   * the notifier reads it after each commit the file sees (ours included): 3.6% of a c=10 drain's
   * time on SQLite (CPU profile, 40,000 jobs), a few µs a batch once prepared.
   */
  private readonly dataVersionStatement: BetterSqlite3.Statement;

  constructor(dataSource: DataSource) {
    const driver = dataSource.driver as any;
    const file: string = driver.databaseConnection?.name ?? (dataSource.options as any).database;
    if (!file || file === ':memory:' || driver.databaseConnection?.memory) throw new ManagedJobsConfigurationError(SQLITE_MEMORY());
    const Database = (this.Database = driver.sqlite as typeof BetterSqlite3);
    this.db = new Database(file, { timeout: 10 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.transaction = this.db.transaction((fn: () => unknown) => fn());
    this.dataVersionStatement = this.db.prepare('PRAGMA data_version').pluck();
  }

  private stmt(text: string): BetterSqlite3.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      if (this.statements.size >= MAX_STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(text, s);
    }
    return s;
  }

  /** The first row, or undefined. */
  get(q: Sql): any {
    const s = this.stmt(q.text);
    if (!s.reader) return s.get(...q.values);
    const build = this.rowsOf(s); // switches the statement to raw rows before its first read
    const row = s.get(...q.values) as unknown[] | undefined;
    return row && build(row);
  }

  all(q: Sql): any[] {
    const s = this.stmt(q.text);
    if (!s.reader) return s.all(...q.values);
    const build = this.rowsOf(s);
    return (s.all(...q.values) as unknown[][]).map(build);
  }

  /**
   * Rows come from the driver as arrays (\`raw\`) and become objects here, each by one object
   * literal made for the statement's columns: better-sqlite3 builds a row object property by
   * property in C++, which made the claim's \`RETURNING *\` of ~40 columns a fifth slower than
   * reading arrays, and copying an array into an empty object by a loop of names cost a further
   * microsecond per row (measured: 50-row reads of 41 columns, 5.1 µs a row by the loop, 3.5–4.5
   * by the literal, 3.5–3.8 for the bare arrays).
   */
  private rowsOf(s: BetterSqlite3.Statement): RowBuilder {
    let build = this.rowBuilders.get(s);
    if (!build) {
      s.raw(true);
      build = rowBuilder(s.columns().map((c) => c.name));
      this.rowBuilders.set(s, build);
    }
    return build;
  }

  /** How many rows the statement changed. */
  run(q: Sql): number {
    return this.stmt(q.text).run(...q.values).changes;
  }

  /** Run `fn` in an immediate transaction, retrying asynchronously while the database is locked. */
  async write<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + BUSY_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return this.transaction.immediate(fn) as T;
      } catch (error: any) {
        if (!String(error?.code).startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error;
        await sleep(Math.min(50, 1 + attempt * 2) * (0.5 + Math.random()));
      }
    }
  }

  /**
   * Whether this connection checkpoints the write-ahead log at its commits (SQLite's default: once
   * the log passes 1,000 pages). Off while a worker's lease keeper thread checkpoints it instead
   * (lib/worker/lease-keeper.thread.ts): a checkpoint copies the log into the database file and
   * syncs it inside the commit that triggers it. Measured (bench latencyIn, SQLite, 500 jobs 5 ms
   * apart, 3 alternated runs): p99 1.17–2.43 ms with the commit's checkpoints, 0.68–0.79 ms without;
   * the stalls were the jobs that arrived every ~96 commits.
   */
  autoCheckpoint(on: boolean): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${on ? WAL_AUTOCHECKPOINT_PAGES : 0}`);
  }

  /** Changes whenever another connection (in this process or another) commits to the file. */
  dataVersion(): number {
    return this.dataVersionStatement.get() as number;
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

type RowBuilder = (row: unknown[]) => Record<string, unknown>;

/**
 * \`(row) => ({ "job_id": row[0], … })\` for these column names: one literal, so every row has the
 * same shape from birth. The names are the statement's result columns (our own schema), each
 * written as a JSON string literal, so no name can escape its quotes.
 */
function rowBuilder(names: string[]): RowBuilder {
  const fields = names.map((name, i) => `${JSON.stringify(name)}: row[${i}]`).join(', ');
  return new Function('row', `return { ${fields} };`) as RowBuilder;
}
