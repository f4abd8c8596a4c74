import type { ClusterLock } from '../job-store.interface.js';
import type { PostgresConnection } from './postgres.connection.js';
import { advisoryUnlock, tryAdvisoryLock } from './lock.sql.js';

/**
 * A session advisory lock on one pooled connection kept for the whole run: whoever holds it
 * runs, the others skip. If this process dies, its connection closes and the lock goes with it.
 */
export class PostgresClusterLock implements ClusterLock {
  constructor(private readonly db: PostgresConnection) {}

  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const client = await this.db.pool.connect();
    let broken: Error | undefined;
    try {
      const lock = tryAdvisoryLock(key);
      const [row] = (await client.query(lock.text, lock.values)).rows;
      if (!row?.acquired) return { acquired: false };
      try {
        return { acquired: true, value: await fn() };
      } finally {
        const unlock = advisoryUnlock(key);
        await client.query(unlock.text, unlock.values).catch((error: Error) => (broken = error));
      }
    } catch (error) {
      broken ??= error as Error;
      throw error;
    } finally {
      // A client whose unlock failed is destroyed rather than reused, which releases the lock.
      client.release(broken);
    }
  }
}
