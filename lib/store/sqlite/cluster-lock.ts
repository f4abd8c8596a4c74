import type { ClusterLock } from '../job-store.interface.js';
import type { SqliteConnection } from './sqlite.connection.js';

/** `runExclusive` keys held in this process (database file + key). */
const heldLocks = new Set<string>();

/** SQLite is single-host: a lock per database file shared by every app of this process. */
export class SqliteClusterLock implements ClusterLock {
  constructor(private readonly db: SqliteConnection) {}

  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const lockKey = `${this.db.db.name}\0${key}`;
    if (heldLocks.has(lockKey)) return { acquired: false };
    heldLocks.add(lockKey);
    try {
      return { acquired: true, value: await fn() };
    } finally {
      heldLocks.delete(lockKey);
    }
  }
}
