/**
 * Per-spec database helpers. Every integration spec runs against every
 * dialect: `describe.each(dialects)(...)` + `createTestDatabase(dialect)`.
 * PostgreSQL and MariaDB databases live on the shared servers started by
 * global-setup.ts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DataSourceOptions } from 'typeorm';

export type Dialect = 'sqlite' | 'postgres' | 'mariadb';
export const dialects: Dialect[] = ['sqlite', 'postgres', 'mariadb'];

/** TypeORM options for one of our dialects, without entities; spread and add your own. */
export type TestTypeOrmOptions = Extract<DataSourceOptions, { type: 'better-sqlite3' | 'postgres' | 'mariadb' | 'mysql' }>;

export interface TestDatabase {
  dialect: Dialect;
  typeorm: TestTypeOrmOptions;
  /** Deletes the database (close your DataSources first; PG connections are force-closed). */
  drop(): Promise<void>;
}

/** Creates a fresh, empty database of the given dialect. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = tmpDir('sqlite');
    return {
      dialect,
      // The file itself is created by better-sqlite3 on first open.
      typeorm: { type: 'better-sqlite3', database: path.join(dir, 'test.sqlite') },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }

  const database = `nmj_${randomBytes(6).toString('hex')}`; // safe identifier, no quoting needed
  if (dialect === 'mariadb') {
    const server = mariadbServer();
    await withMariadbAdmin((c) => c.query(`CREATE DATABASE ${database}`));
    return {
      dialect,
      // `timezone: 'Z'`: TypeORM's own reads of DATETIME columns are UTC, as the store writes them (README).
      typeorm: { type: 'mariadb', ...server, database, timezone: 'Z' },
      drop: async () => {
        await withMariadbAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${database}`));
      },
    };
  }

  const server = pgServer();
  await withAdminClient((client) => client.query(`CREATE DATABASE ${database}`));
  return {
    dialect,
    typeorm: { type: 'postgres', ...server, database },
    drop: async () => {
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
    },
  };
}

/** Makes a fresh, empty temporary directory (e.g. for file storage) and returns its path. */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nmj-${prefix}-`));
}

type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

/**
 * Polls `predicate` until it returns a truthy value and returns that value.
 * A predicate that throws counts as "not yet" (so `expect(...)` can be used
 * inside); on timeout the last error is included in the thrown message.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, description }: { timeoutMs?: number; intervalMs?: number; description?: string } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as Truthy<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const what = description ?? predicate.toString().replace(/\s+/g, ' ').slice(0, 200);
  const cause = lastError === undefined ? '' : `\nLast error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`waitFor timed out after ${timeoutMs} ms: ${what}${cause}`);
}

/** Connection details of the shared server, published by global-setup.ts. */
function pgServer() {
  const { NMJ_PG_HOST: host, NMJ_PG_PORT: port, NMJ_PG_USER: username, NMJ_PG_PASSWORD: password } = process.env;
  if (!host || !port || !username || password === undefined) {
    throw new Error('NMJ_PG_* env vars are missing: is test/support/global-setup.ts configured as jest globalSetup?');
  }
  return { host, port: Number(port), username, password };
}

/** Connection details of the shared MariaDB server, published by global-setup.ts. */
export function mariadbServer() {
  const { NMJ_MARIADB_HOST: host, NMJ_MARIADB_PORT: port, NMJ_MARIADB_USER: username, NMJ_MARIADB_PASSWORD: password } = process.env;
  if (!host || !port || !username || password === undefined) {
    throw new Error('NMJ_MARIADB_* env vars are missing: is test/support/global-setup.ts configured as jest globalSetup?');
  }
  return { host, port: Number(port), username, password };
}

async function withMariadbAdmin<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const { host, port, username: user, password } = mariadbServer();
  const c = await mysql.createConnection({ host, port, user, password });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const { host, port, username: user, password } = pgServer();
  const client = new pg.Client({ host, port, user, password, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
