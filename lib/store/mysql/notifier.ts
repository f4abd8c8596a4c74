import { Logger } from '@nestjs/common';
import type { Notifier } from '../job-store.interface.js';
import { ANY_DISPATCH } from '../wake-message.js';
import { MysqlEventLog } from './event-log.js';
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
 * can only say "any queue". Job events go between processes through a small table that relays
 * append to and gateways read (`event-log.ts`).
 */
export class MysqlNotifier implements Notifier {
  private readonly logger = new Logger('ManagedJobs');
  private timer?: NodeJS.Timeout;
  private closed = false;

  private readonly events: MysqlEventLog;

  constructor(private readonly db: MysqlConnection) {
    this.events = new MysqlEventLog(db);
  }

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

  publishEvents(payloads: string[]): Promise<void> {
    return this.events.publish(payloads);
  }

  listenEvents(onEvent: (payload: string) => void): Promise<void> {
    return this.events.listen(onEvent);
  }

  hasEventListeners(): Promise<boolean> {
    return this.events.othersListen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.events.close();
  }
}
