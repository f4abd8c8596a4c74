import { watch, type FSWatcher } from 'node:fs';
import type { Notifier } from '../job-store.interface.js';
import { ANY_DISPATCH } from '../wake-message.js';
import type { SqliteConnection } from './sqlite.connection.js';

/** How often the worker checks whether another connection committed (see `listen`), when no file event says so first. */
const DATA_VERSION_CHECK_MS = 15;

/**
 * SQLite has no NOTIFY and no channel between processes: wake-ups come from watching the file,
 * and job events stay in the process that ran the job (`crossProcessEvents: false`).
 */
export class SqliteNotifier implements Notifier {
  private versionTimer?: NodeJS.Timeout;
  private walWatcher?: FSWatcher;
  private checkScheduled = false;

  constructor(private readonly db: SqliteConnection) {}

  /**
   * `PRAGMA data_version` (which changes when another connection, in this process or another,
   * commits to the file) is a microsecond read that does not touch the tables. It is read when the
   * write-ahead log file changes (an inotify/kqueue event: another process's commit is seen within
   * a millisecond or so) and every `DATA_VERSION_CHECK_MS` in any case (file events can be missed,
   * and some file systems have none). A change wakes the worker, so a job dispatched by another
   * process (or inside a caller's TypeORM transaction) starts at once instead of waiting for the
   * poll. The message can only say "any queue".
   *
   * Measured (bench latencyX, SQLite, a producer process dispatching 5 ms apart): with the timer
   * alone, p50 7–8 ms and p99 15–16 ms (the timer's period); events from one loop turn are read
   * with one check, so a busy file costs one pragma per turn.
   */
  async listen(onNotify: (payload: string) => void): Promise<void> {
    let version = this.db.dataVersion();
    const check = () => {
      this.checkScheduled = false;
      if (!this.db.open) return;
      const now = this.db.dataVersion();
      if (now !== version) {
        version = now;
        onNotify(ANY_DISPATCH);
      }
    };
    this.versionTimer = setInterval(check, DATA_VERSION_CHECK_MS);
    this.versionTimer.unref();
    try {
      this.walWatcher = watch(`${this.db.db.name}-wal`, { persistent: false }, () => {
        if (this.checkScheduled) return;
        this.checkScheduled = true;
        setImmediate(check);
      });
      this.walWatcher.on('error', () => this.walWatcher?.close()); // the timer still checks
    } catch {
      // No write-ahead log file to watch (yet), or no file events here: the timer checks.
    }
  }

  async publishEvents(): Promise<void> {}

  async listenEvents(): Promise<void> {}

  async hasEventListeners(): Promise<boolean> {
    return false;
  }

  close(): void {
    clearInterval(this.versionTimer);
    this.walWatcher?.close();
  }
}
