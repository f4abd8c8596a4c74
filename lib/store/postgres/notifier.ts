import { Logger } from '@nestjs/common';
import type pg from 'pg';
import { EVENTS_CHANNEL, NOTIFY_CHANNEL } from '../../managed-jobs.constants.js';
import type { Notifier } from '../job-store.interface.js';
import { ANY_DISPATCH } from '../wake-message.js';
import type { PostgresConnection } from './postgres.connection.js';
import { holdListenerLock, listen, notifyMany, otherListenersPresent } from './notify.sql.js';

/**
 * LISTEN/NOTIFY. Each channel is listened to on a dedicated client (not from the pool) that
 * reconnects with jittered backoff; losing it only costs latency, because workers keep polling.
 * Event listeners hold a shared advisory lock on their connection, so publishers can tell
 * whether anyone listens.
 */
export class PostgresNotifier implements Notifier {
  private readonly logger = new Logger('ManagedJobs');
  /** LISTEN connections by channel (wake-ups, job events). */
  private readonly listeners = new Map<string, pg.Client>();
  private readonly listenTimers = new Set<NodeJS.Timeout>();
  /** Backend pids of this store's LISTEN connections (their locks are not "someone else listening"). */
  private readonly ownListenerPids = new Set<number>();
  private closed = false;

  constructor(private readonly db: PostgresConnection) {}

  /** LISTEN for wake-ups (dispatches, stop requests). */
  listen(onNotify: (payload: string) => void): Promise<void> {
    return this.listenOn(NOTIFY_CHANNEL, onNotify, () => onNotify(ANY_DISPATCH)); // anything dispatched while we were away
  }

  /** Broadcast job events to every process that called `listenEvents`, in order, in one round trip. */
  async publishEvents(payloads: string[]): Promise<void> {
    await this.db.query(notifyMany(EVENTS_CHANNEL, payloads));
  }

  listenEvents(onEvent: (payload: string) => void): Promise<void> {
    return this.listenOn(EVENTS_CHANNEL, onEvent);
  }

  /** Whether a connection other than ours LISTENs for job events (it holds the listener lock). */
  async hasEventListeners(): Promise<boolean> {
    const [row] = await this.db.query(otherListenersPresent([...this.ownListenerPids]));
    return row.present;
  }

  /** LISTEN on a dedicated connection (not from the pool), reconnecting with jittered backoff. */
  private async listenOn(channel: string, onNotify: (payload: string) => void, onConnected?: () => void): Promise<void> {
    let failures = 0;
    const connect = async (): Promise<void> => {
      if (this.closed) return;
      const client = new this.db.pg.Client(this.db.clientOptions('nestjs-managed-jobs listener'));
      client.on('error', () => undefined); // surfaced through 'end' below
      try {
        await client.connect();
        const q = listen(channel);
        await client.query(q.text, q.values);
        if (channel === EVENTS_CHANNEL) {
          const lock = holdListenerLock();
          await client.query(lock.text, lock.values);
        }
      } catch (error) {
        client.end().catch(() => undefined);
        return retry(error as Error);
      }
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      if (failures > 0) this.logger.log(`Reconnected to PostgreSQL for LISTEN ${channel}.`);
      failures = 0;
      this.listeners.set(channel, client);
      const pid = (client as unknown as { processID: number }).processID;
      this.ownListenerPids.add(pid);
      client.on('notification', (msg) => onNotify(msg.payload ?? ''));
      client.once('end', () => {
        if (this.listeners.get(channel) === client) this.listeners.delete(channel);
        this.ownListenerPids.delete(pid);
        if (!this.closed) retry(new Error('connection ended'));
      });
      onConnected?.();
    };
    const retry = (error: Error): void => {
      failures++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random() / 2);
      this.logger.warn(`LISTEN ${channel} connection lost (${error.message}); retrying in ${Math.round(delay)} ms.`);
      const timer = setTimeout(() => {
        this.listenTimers.delete(timer);
        void connect();
      }, delay);
      timer.unref();
      this.listenTimers.add(timer);
    };
    await connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.listenTimers) clearTimeout(timer);
    const clients = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}
