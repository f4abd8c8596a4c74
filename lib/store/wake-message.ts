/**
 * Wake-up messages on the notify channel, the only place they are encoded and decoded. They are
 * hints: a worker that misses one finds the work at its next poll.
 *
 * - `d:<queues>|<origin>`: jobs were queued in these queues (comma-separated; none means "any
 *   queue": something was committed) by the process `origin` (empty when unknown). Worker ids
 *   contain ':', hence '|'. `|<origin>` is left out when there is no origin.
 * - `s:<jobId>`: a stop of this job was requested.
 *
 * Statements that build a message themselves (from a row they change) take the prefix as a
 * parameter (`WAKE_PREFIX`) and append the queue or the job id in SQL.
 */

export const WAKE_PREFIX = { dispatched: 'd:', stopRequested: 's:' } as const;

const ORIGIN_SEPARATOR = '|';
const QUEUE_SEPARATOR = ',';

export type WakeMessage =
  /** `queues` empty: any queue may have work. */
  | { kind: 'dispatched'; queues: string[]; origin: string }
  | { kind: 'stopRequested'; jobId: string };

/** Jobs were queued in `queues` (all of them when empty) by `origin`. */
export function encodeDispatched(queues: Iterable<string> = [], origin = ''): string {
  const list = [...queues].join(QUEUE_SEPARATOR);
  return origin ? `${WAKE_PREFIX.dispatched}${list}${ORIGIN_SEPARATOR}${origin}` : `${WAKE_PREFIX.dispatched}${list}`;
}

/** "Something was committed": any queue may have work. */
export const ANY_DISPATCH = encodeDispatched();

export function encodeStopRequested(jobId: string): string {
  return `${WAKE_PREFIX.stopRequested}${jobId}`;
}

/** The message in `payload`; anything unknown reads as "any queue may have work" (a wake-up is only a hint). */
export function decodeWake(payload: string): WakeMessage {
  if (payload.startsWith(WAKE_PREFIX.stopRequested)) return { kind: 'stopRequested', jobId: payload.slice(WAKE_PREFIX.stopRequested.length) };
  const rest = payload.startsWith(WAKE_PREFIX.dispatched) ? payload.slice(WAKE_PREFIX.dispatched.length) : '';
  const bar = rest.indexOf(ORIGIN_SEPARATOR);
  const queues = bar < 0 ? rest : rest.slice(0, bar);
  return { kind: 'dispatched', queues: queues ? queues.split(QUEUE_SEPARATOR) : [], origin: bar < 0 ? '' : rest.slice(bar + 1) };
}
