/** Job events between processes on MySQL/MariaDB (no NOTIFY): see `event-relay.ts`. */
import { NOW, type Sql } from './common.sql.js';

/**
 * A relay's batch, in order, in one statement whatever its size (one prepared text): the
 * payloads travel as one JSON array, unrolled by `JSON_TABLE` in array order, so the ids
 * (`AUTO_INCREMENT`) follow the order of the batch.
 */
const INSERT_EVENTS = `INSERT INTO managed_job_events (payload, created_at)
  SELECT e.payload, ${NOW} FROM JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, payload TEXT PATH '$')) AS e ORDER BY e.n`;

export function insertEvents(payloads: string[]): Sql {
  return { text: INSERT_EVENTS, values: [JSON.stringify(payloads)] };
}

/** Where a new reader starts: after every event already written. */
export function lastEventId(): Sql {
  return { text: `SELECT COALESCE(MAX(id), 0) AS id FROM managed_job_events`, values: [] };
}

/** The next events after `afterId`, by id (a range read at the end of the primary key). */
export function eventsAfter(afterId: number, limit: number): Sql {
  return { text: `SELECT id, payload FROM managed_job_events WHERE id > ? ORDER BY id LIMIT ?`, values: [afterId, limit] };
}

/** Events older than every reader's window; oldest first, a bounded batch. */
export function pruneEvents(keepSeconds: number, limit: number): Sql {
  return { text: `DELETE FROM managed_job_events WHERE created_at < ${NOW} - INTERVAL ? SECOND ORDER BY id LIMIT ?`, values: [keepSeconds, limit] };
}

/** A reader says it is alive (what `hasEventListeners` counts). */
export function touchReader(readerId: string): Sql {
  return {
    text: `INSERT INTO managed_job_event_readers (reader_id, seen_at) VALUES (?, ${NOW}) ON DUPLICATE KEY UPDATE seen_at = ${NOW}`,
    values: [readerId],
  };
}

export function dropReader(readerId: string): Sql {
  return { text: `DELETE FROM managed_job_event_readers WHERE reader_id = ?`, values: [readerId] };
}

/** Readers of processes that died without saying goodbye. */
export function pruneReaders(staleSeconds: number): Sql {
  return { text: `DELETE FROM managed_job_event_readers WHERE seen_at < ${NOW} - INTERVAL ? SECOND`, values: [staleSeconds] };
}

/** Whether a reader other than `ownIds` was alive in the last `freshSeconds` (one text for any number of ids). */
export function otherReadersPresent(ownIds: string[], freshSeconds: number): Sql {
  return {
    text: `SELECT EXISTS (SELECT 1 FROM managed_job_event_readers
      WHERE seen_at >= ${NOW} - INTERVAL ? SECOND AND NOT JSON_CONTAINS(?, JSON_QUOTE(reader_id))) AS present`,
    values: [freshSeconds, JSON.stringify(ownIds)],
  };
}
