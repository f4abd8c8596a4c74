/**
 * SQLite statements of the store, one function per statement, each returning `{ text, values }`,
 * grouped by file as on PostgreSQL: `jobs`, `claim`, `run-end`, `scope`, `files`, `maintenance`.
 *
 * Design notes:
 * - SQLite has no arrays and no data-modifying CTEs: a batch is a loop of one statement inside
 *   one immediate transaction (cheap: better-sqlite3 is synchronous and statements are prepared
 *   once per text), and the ledger row of a run is a second statement of that transaction, built
 *   by `run-end.sql.ts` from the row the first one returned.
 * - Texts are module constants, so the store's prepared-statement cache (keyed by text) hits.
 * - Placeholders are positional `?`, or `@name` with one object as the only value (the hot path's
 *   claim and completion, whose times are parameters).
 * - Every write of a running worker matches `fence` and `status = 'running'`.
 */

export interface Sql {
  text: string;
  values: unknown[];
}

export const NOW = `strftime('%Y-%m-%d %H:%M:%f', 'now')`;
export const plusMs = (param: string) => `strftime('%Y-%m-%d %H:%M:%f', 'now', printf('%+.3f seconds', ${param} / 1000.0))`;
