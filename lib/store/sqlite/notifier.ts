import type { Notifier } from '../job-store.interface.js';
import { ANY_DISPATCH } from '../wake-message.js';
import type { SqliteConnection } from './sqlite.connection.js';

/** How often the worker checks whether another connection committed (see `listen`). */
const DATA_VERSION_CHECK_MS = 15;

/**
 * SQLite has no NOTIFY and no channel between processes: wake-ups come from watching the file,
 * and job events stay in the process that ran the job (`crossProcessEvents: false`).
 */
export class SqliteNotifier implements Notifier {
  private versionTimer?: NodeJS.Timeout;

  constructor(private readonly db: SqliteConnection) {}

  /**
   * `PRAGMA data_version` (which changes when another connection, in this process or another,
   * commits to the file) is read every `DATA_VERSION_CHECK_MS`: a microsecond read that does not
   * touch the tables. A change wakes the worker, so a job dispatched by another process (or inside
   * a caller's TypeORM transaction) starts within a few milliseconds of its commit instead of
   * waiting for the poll. The message can only say "any queue".
   */
  async listen(onNotify: (payload: string) => void): Promise<void> {
    let version = this.db.dataVersion();
    this.versionTimer = setInterval(() => {
      if (!this.db.open) return;
      const now = this.db.dataVersion();
      if (now !== version) {
        version = now;
        onNotify(ANY_DISPATCH);
      }
    }, DATA_VERSION_CHECK_MS);
    this.versionTimer.unref();
  }

  async publishEvents(): Promise<void> {}

  async listenEvents(): Promise<void> {}

  async hasEventListeners(): Promise<boolean> {
    return false;
  }

  close(): void {
    clearInterval(this.versionTimer);
  }
}
