/** Keeping the ended counts (`ended-counts.sql.ts`) right around a write that may take jobs out of an ended status (PostgreSQL). */
import type { Sql } from './common.sql.js';
import { lockEndedMark, shiftEnded } from './ended-counts.sql.js';

/** In the caller's transaction: the mark row, then the jobs' counts out before `write` and the ones still ended back after it. */
export async function keepingEndedCounts<T>(query: (q: Sql) => Promise<unknown>, jobIds: string[], write: () => Promise<T>): Promise<T> {
  await query(lockEndedMark());
  await query(shiftEnded(jobIds, -1));
  const result = await write();
  await query(shiftEnded(jobIds, 1));
  return result;
}
