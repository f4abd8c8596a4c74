import type { ClusterLock } from '../job-store.interface.js';
import { releaseNamedLock, tryNamedLock } from './lock.sql.js';
import type { MysqlConnection } from './mysql.connection.js';

/**
 * A named lock (`GET_LOCK`) on one pooled connection kept for the whole run: whoever holds it
 * runs, the others skip. If this process dies, its connection closes and the lock goes with it.
 */
export class MysqlClusterLock implements ClusterLock {
  constructor(private readonly db: MysqlConnection) {}

  runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
    return this.db.withConnection(async (conn, discard) => {
      const [row] = await conn.query(tryNamedLock(key));
      if (Number(row?.acquired) !== 1) return { acquired: false };
      try {
        return { acquired: true, value: await fn() };
      } finally {
        // A connection whose release failed is destroyed rather than reused, which releases the lock.
        await conn.query(releaseNamedLock(key)).catch(() => discard());
      }
    });
  }
}
