/** Keeping the ended counts (`ended-counts.sql.ts`) right around a write that may take jobs out of an ended status (MySQL/MariaDB). */
import type { MysqlTransaction } from './mysql.connection.js';
import { lockEndedMark, shiftEnded } from './ended-counts.sql.js';

/** In the caller's transaction: the mark row, then the jobs' counts out before `write` and the ones still ended back after it. */
export async function keepingEndedCounts<T>(tx: MysqlTransaction, jobIds: string[], write: () => Promise<T>): Promise<T> {
  await tx.query(lockEndedMark());
  await tx.run(shiftEnded(jobIds, -1));
  const result = await write();
  await tx.run(shiftEnded(jobIds, 1));
  return result;
}
