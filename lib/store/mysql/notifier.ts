import { Logger } from '@nestjs/common';
import type { Notifier } from '../job-store.interface.js';
import { ANY_DISPATCH } from '../wake-message.js';
import type { MysqlConnection } from './mysql.connection.js';
import { wakeState } from './notify.sql.js';

/**
 * How often the worker reads the wake-up state (see `listen`): a start latency of about half of
 * this plus a round trip, for one indexed one-row read per interval per worker process.
 */
const WAKE_CHECK_MS = 20;

/**
 * MySQL and MariaDB have no NOTIFY. Wake-ups come from a short poll of a tiny state (the newest
 * job id and a change counter, `notify.sql.ts`), like SQLite's `PRAGMA data_version`; the message
 * can only say "any queue". Job events stay in the process that ran the job
 * (`crossProcessEvents: false`), as on SQLite.
 */
export class MysqlNotifier implements Notifier {
  private readonly logger = new Logger('ManagedJobs');
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly db: MysqlConnection) {}

  async listen(onNotify: (payload: string) => void): Promise<void> {
    let last: string | undefined;
    let failing = false;
    const check = async () => {
      try {
        const [row] = await this.db.query(wakeState());
        const state = `${row?.last_job ?? ''}|${row?.version ?? ''}`;
        if (last !== undefined && state !== last) onNotify(ANY_DISPATCH);
        last = state;
        if (failing) this.logger.log('Wake-up checks on MySQL/MariaDB work again.');
        failing = false;
      } catch (error) {
        if (!failing) this.logger.warn(`Wake-up check failed (${(error as Error).message}); workers keep polling.`);
        failing = true;
      }
      if (!this.closed) {
        this.timer = setTimeout(() => void check(), WAKE_CHECK_MS);
        this.timer.unref();
      }
    };
    await check();
  }

  async publishEvents(): Promise<void> {}

  async listenEvents(): Promise<void> {}

  async hasEventListeners(): Promise<boolean> {
    return false;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
