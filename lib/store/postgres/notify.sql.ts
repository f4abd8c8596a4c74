/** NOTIFY / LISTEN and the event listeners' presence lock (PostgreSQL). */
import type { Sql } from './common.sql.js';

/**
 * Many NOTIFYs in one statement, delivered in array order (unnest yields rows in order, and a
 * transaction's notifications arrive in the order they were sent). Each payload must stay under
 * PostgreSQL's 8000 bytes.
 */
export function notifyMany(channel: string, payloads: string[]): Sql {
  return { text: `SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m`, values: [channel, payloads] };
}

/** Start receiving `channel`'s notifications on this connection (a trusted constant: LISTEN takes no parameter). */
export function listen(channel: string): Sql {
  return { text: `LISTEN ${channel}`, values: [] };
}

/**
 * Event listeners hold this shared advisory lock on their LISTEN connection, so that publishers
 * can tell whether anyone listens (`pg_locks`) before relaying. Two int4 keys: 'nmj\0', 1.
 */
const LISTENER_LOCK = [0x6e6d6a00, 1] as const;

export function holdListenerLock(): Sql {
  return { text: `SELECT pg_advisory_lock_shared($1, $2)`, values: [...LISTENER_LOCK] };
}

/** Whether a connection other than `ownPids` holds the listener lock in this database. */
export function otherListenersPresent(ownPids: number[]): Sql {
  return {
    text: `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid
        AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND NOT (pid = ANY($3::int[]))) AS present`,
    values: [...LISTENER_LOCK, ownPids],
  };
}
