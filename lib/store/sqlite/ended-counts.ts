/** Keeping the ended counts (`ended-counts.sql.ts`) right around a write that may take jobs out of an ended status (SQLite). */
import type { SqliteConnection } from './sqlite.connection.js';
import { shiftEnded } from './ended-counts.sql.js';

/** Inside the caller's immediate transaction (the write lock serialises it): the jobs' counts out before `write`, the ones still ended back after it. */
export function keepingEndedCounts<T>(db: SqliteConnection, jobIds: string[], write: () => T): T {
  db.run(shiftEnded(jobIds, -1));
  const result = write();
  db.run(shiftEnded(jobIds, 1));
  return result;
}
