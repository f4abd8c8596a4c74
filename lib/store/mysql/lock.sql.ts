/** The cluster lock: named locks (MySQL/MariaDB). */
import { createHash } from 'node:crypto';
import type { Sql } from './common.sql.js';

/** Lock names are at most 64 characters: a hash of the key, under our prefix. */
const lockName = (key: string) => `nmj:${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;

/** Session-level: held across the statements of a run on one connection; 0 s wait (try-lock). */
export function tryNamedLock(key: string): Sql {
  return { text: `SELECT GET_LOCK(?, 0) AS acquired`, values: [lockName(key)] };
}

export function releaseNamedLock(key: string): Sql {
  return { text: `SELECT RELEASE_LOCK(?) AS released`, values: [lockName(key)] };
}
