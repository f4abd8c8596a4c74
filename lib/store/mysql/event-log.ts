import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { eventsAfter, insertEvents, lastEventId, otherReadersPresent, pruneEvents, pruneReaders, touchReader, dropReader } from './events.sql.js';
import type { MysqlConnection } from './mysql.connection.js';

/**
 * Job events between processes on MySQL/MariaDB, which have no NOTIFY: relays append a batch of
 * events to `managed_job_events` in one statement, and each gateway process reads past the last id
 * it saw every `READ_EVERY_MS` (a range read at the end of the primary key; nothing when idle but
 * that read). Gateways also say they are alive in `managed_job_event_readers` every
 * `TOUCH_EVERY_MS`, which is what relays check before sending anything (relay gating, as on
 * PostgreSQL), and prune events older than `KEEP_SECONDS` as they go.
 *
 * Ids are given at insert and become visible at commit, so two relays committing close together
 * can show a higher id before a lower one. A reader therefore keeps its cursor below the first
 * missing id and reads past it, delivering what it has not yet delivered, until the id turns up or
 * `GAP_WAIT_MS` passes (a rolled-back insert, or ids skipped by `innodb_autoinc_lock_mode=2`).
 * One relay's events are never reordered: it sends batch after batch, each committed before the next.
 */
const READ_EVERY_MS = 25;
const READ_LIMIT = 1000;
const TOUCH_EVERY_MS = 1000;
/** A reader is alive when seen within this window; a dead one is deleted after `STALE_SECONDS`. */
const FRESH_SECONDS = 5;
const STALE_SECONDS = 60;
/** Far longer than any reader lags behind, short enough to keep the table tiny. */
const KEEP_SECONDS = 60;
const PRUNE_LIMIT = 5000;
const GAP_WAIT_MS = 1000;

export class MysqlEventLog {
  private readonly logger = new Logger('ManagedJobs');
  private readonly readerIds = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly db: MysqlConnection) {}

  /** One statement per batch, in order. */
  async publish(payloads: string[]): Promise<void> {
    if (payloads.length) await this.db.run(insertEvents(payloads));
  }

  /** Whether a reader of another store (another process) is alive. */
  async othersListen(): Promise<boolean> {
    const [row] = await this.db.query(otherReadersPresent([...this.readerIds], FRESH_SECONDS));
    return Number(row?.present) === 1;
  }

  /** Deliver every event written from now on, in id order, until `close()`. */
  async listen(onEvent: (payload: string) => void): Promise<void> {
    const readerId = randomUUID();
    await this.db.run(touchReader(readerId));
    this.readerIds.add(readerId);
    let cursor = Number((await this.db.query(lastEventId()))[0]?.id ?? 0);
    /** Ids above the cursor already delivered, and since when the id after the cursor is missing. */
    const delivered = new Set<number>();
    let gapSince: number | null = null;
    let failing = false;

    const read = async () => {
      const rows = await this.db.query(eventsAfter(cursor, READ_LIMIT));
      for (const row of rows) {
        const id = Number(row.id);
        if (delivered.has(id)) continue;
        delivered.add(id);
        onEvent(String(row.payload));
      }
      while (delivered.delete(cursor + 1)) cursor++;
      if (!delivered.size) gapSince = null;
      else if (gapSince === null) gapSince = Date.now();
      else if (Date.now() - gapSince > GAP_WAIT_MS) {
        // Give up on the missing id(s): move to the next delivered one and on from there.
        cursor = Math.min(...delivered);
        delivered.delete(cursor);
        while (delivered.delete(cursor + 1)) cursor++;
        gapSince = delivered.size ? Date.now() : null;
      }
    };
    const touch = async () => {
      await this.db.run(touchReader(readerId));
      await this.db.run(pruneEvents(KEEP_SECONDS, PRUNE_LIMIT));
      await this.db.run(pruneReaders(STALE_SECONDS));
    };
    let lastTouch = Date.now();
    const loop = async () => {
      try {
        await read();
        if (Date.now() - lastTouch >= TOUCH_EVERY_MS) {
          lastTouch = Date.now();
          await touch();
        }
        if (failing) this.logger.log('Reading job events of other processes works again.');
        failing = false;
      } catch (error) {
        if (!failing) this.logger.warn(`Could not read job events of other processes (${(error as Error).message}); retrying.`);
        failing = true;
      }
      this.schedule(loop, READ_EVERY_MS);
    };
    this.schedule(loop, READ_EVERY_MS);
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** Stops reading and says goodbye (relays stop sending once no reader is left). */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const ids = [...this.readerIds];
    this.readerIds.clear();
    await Promise.all(ids.map((id) => this.db.run(dropReader(id)).catch(() => undefined)));
  }
}
