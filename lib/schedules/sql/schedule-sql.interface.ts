/** One statement, as every builder of the library returns it. */
export interface Sql {
  text: string;
  values: unknown[];
  /**
   * A write's read-back, for databases without `UPDATE … RETURNING` (MySQL/MariaDB): run on the
   * same connection when the write matched a row; its rows are the statement's rows.
   */
  then?: Sql;
}

/** Times travel as UTC text 'YYYY-MM-DD HH:MM:SS.mmm' both ways (see `utc-text.ts`). */
export interface ScheduleRowInput {
  name: string;
  cron: string;
  timezone: string;
  jobType: string;
  /** JSON text, or null. */
  payload: string | null;
  ownerUserId: string | null;
  ownerTenantId: string | null;
  /** null: keep the stored value (true for a new row). */
  enabled: boolean | null;
  catchUp: string;
  overlap: string;
  /** The first occurrence from now, used when the timing changes or the row is new. */
  nextRunAt: string | null;
  declared: boolean;
}

export interface OnceRowInput {
  name: string;
  jobType: string;
  payload: string | null;
  ownerUserId: string | null;
  ownerTenantId: string | null;
  at: string;
}

/** The statements of the schedules, one builder per dialect. */
export interface ScheduleSql {
  /** `min(next_run_at)` of the enabled schedules and the database clock, as `next_at`, `db_now`. */
  nextDue(): Sql;
  /** Enabled schedules due now (by the database clock), oldest occurrence first. */
  due(limit: number): Sql;
  /** The compare-and-set that fires an occurrence: moves `next_run_at` only if it still is `due`. */
  advance(name: string, due: string, next: string | null, lastRunAt: string | null): Sql;
  /** Records the job of the last occurrence (or trigger, or one-off); `stamp` also sets `last_run_at` to now. */
  setLastJob(name: string, jobId: string, stamp: boolean): Sql;
  upsert(row: ScheduleRowInput): Sql;
  insertOnce(row: OnceRowInput): Sql;
  /** Any row by name (cron or once), with `kind`. */
  find(name: string): Sql;
  list(): Sql;
  remove(name: string): Sql;
  deleteOnce(name: string, jobId: string | null): Sql;
  enable(name: string, next: string | null): Sql;
  disable(name: string): Sql;
  /** Names and job types of the rows declared in code. */
  declared(): Sql;
}
