/**
 * A worker-only deployment of nestjs-managed-jobs, runnable as a plain OS process:
 *
 *   NMJ_DB_URL=postgres://user:pass@host/db NMJ_CONCURRENCY=4 node test/reliability/worker-app.mjs
 *
 * No HTTP server (an application context, not an HTTP app), no socket.io gateway, no controller,
 * no scheduled file expiry: it only claims and runs jobs. Configured by environment variables
 * (see `readConfig()`); a bad value stops it at once with a message saying which one.
 *
 * The reliability specs spawn several of these (test/support/processes.ts). For them it also
 * registers the test jobs of ./worker-jobs.mjs and reports on stdout, one JSON line per
 * message prefixed with `@@NMJ `: `ready` once the worker runs, every job event it emits, and
 * fenced writes its handlers saw. Everything else on stdout/stderr is ordinary logging.
 *
 * The library is imported from its built output: `NMJ_LIBRARY` (a path to `index.js`), or the
 * package itself (`nestjs-managed-jobs`, which inside this repository resolves to `dist/`).
 */
import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { ConsoleLogger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { defineTestJobs, report } from './worker-jobs.mjs';

const config = readConfig(process.env);
const lib = await import(config.library);
const { ManagedJobsModule, managedJobsMigrations } = lib;
const { providers, close: closeJobs } = await defineTestJobs(lib, config);

class WorkerModule {}
// Plain JS has no decorator syntax: apply Nest's decorators as functions.
Module({
  imports: [
    TypeOrmModule.forRoot({
      ...config.database,
      autoLoadEntities: true,
      migrations: managedJobsMigrations(config.database.type),
      // Run migrations from ONE process at deploy time (NMJ_MIGRATE=1 on a single instance):
      // several processes migrating the same database at once race on CREATE TABLE.
      migrationsRun: config.migrate,
    }),
    EventEmitterModule.forRoot({ wildcard: true }),
    ManagedJobsModule.forRoot({
      worker: config.worker,
      http: { enabled: false },
      broadcasting: { enabled: false },
      schedule: { enabled: false },
      storage: config.storageRoot ? { root: config.storageRoot } : undefined,
    }),
  ],
  providers,
})(WorkerModule);

process.on('unhandledRejection', (error) => {
  console.error(`[worker ${config.worker.id ?? process.pid}] unhandled rejection:`, error);
});

try {
  const app = await NestFactory.createApplicationContext(WorkerModule, {
    logger: new ConsoleLogger({ logLevels: config.logLevels, prefix: `worker ${config.worker.id ?? process.pid}` }),
  });
  // SIGTERM/SIGINT → stop claiming, let running jobs finish for shutdownTimeoutMs, hand the rest back.
  app.enableShutdownHooks();
  process.once('exit', () => void closeJobs());
  report({ type: 'ready', pid: process.pid, workerId: config.worker.id });
} catch (error) {
  console.error(`[worker] could not start: ${error?.stack ?? error}`);
  process.exit(1);
}

/** Every setting comes from the environment; unknown or invalid values fail fast. */
function readConfig(env) {
  const int = (name, fallback) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      console.error(`[worker] ${name} must be a positive integer; got "${raw}".`);
      process.exit(2);
    }
    return value;
  };
  const type = env.NMJ_DB_TYPE ?? (env.NMJ_DB_FILE ? 'better-sqlite3' : 'postgres');
  let database;
  if (type === 'better-sqlite3') {
    if (!env.NMJ_DB_FILE) {
      console.error('[worker] NMJ_DB_FILE (the SQLite file) is required with NMJ_DB_TYPE=better-sqlite3.');
      process.exit(2);
    }
    database = { type, database: env.NMJ_DB_FILE, enableWAL: true };
  } else if (type === 'postgres') {
    database = {
      type,
      ...(env.NMJ_DB_URL
        ? { url: env.NMJ_DB_URL }
        : {
            host: env.NMJ_DB_HOST ?? '127.0.0.1',
            port: int('NMJ_DB_PORT', 5432),
            username: env.NMJ_DB_USER,
            password: env.NMJ_DB_PASSWORD,
            database: env.NMJ_DB_NAME,
          }),
      // Pool size: concurrency + claim/completion/reaper traffic; LISTEN and the lease keeper have their own connections.
      extra: { max: int('NMJ_DB_POOL_MAX', int('NMJ_CONCURRENCY', 10) + 4) },
      // The pool connects lazily; when the server restarts, failed queries are retried by the worker.
      connectTimeoutMS: int('NMJ_DB_CONNECT_TIMEOUT_MS', 5000),
    };
  } else if (type === 'mariadb' || type === 'mysql') {
    database = {
      type,
      host: env.NMJ_DB_HOST ?? '127.0.0.1',
      port: int('NMJ_DB_PORT', 3306),
      username: env.NMJ_DB_USER,
      password: env.NMJ_DB_PASSWORD,
      database: env.NMJ_DB_NAME,
      timezone: 'Z',
      poolSize: int('NMJ_DB_POOL_MAX', int('NMJ_CONCURRENCY', 10) + 4),
      connectTimeout: int('NMJ_DB_CONNECT_TIMEOUT_MS', 5000),
    };
  } else {
    console.error(`[worker] NMJ_DB_TYPE must be 'postgres', 'mariadb', 'mysql' or 'better-sqlite3'; got "${type}".`);
    process.exit(2);
  }
  const worker = {
    concurrency: int('NMJ_CONCURRENCY', 10),
    pollIntervalMs: int('NMJ_POLL_INTERVAL_MS', 1000),
    leaseMs: int('NMJ_LEASE_MS', 30_000),
    heartbeatIntervalMs: int('NMJ_HEARTBEAT_INTERVAL_MS', 1000),
    reaperIntervalMs: int('NMJ_REAPER_INTERVAL_MS', 5000),
    shutdownTimeoutMs: int('NMJ_SHUTDOWN_TIMEOUT_MS', 10_000),
    ...(env.NMJ_QUEUES ? { queues: env.NMJ_QUEUES.split(',').map((q) => q.trim()).filter(Boolean) } : {}),
    ...(env.NMJ_WORKER_ID ? { id: env.NMJ_WORKER_ID } : {}),
  };
  const library = env.NMJ_LIBRARY ? pathToFileURL(env.NMJ_LIBRARY).href : 'nestjs-managed-jobs';
  const logLevels = (env.NMJ_LOG_LEVELS ?? 'log,warn,error').split(',');
  return { database, worker, library, logLevels, migrate: env.NMJ_MIGRATE === '1', storageRoot: env.NMJ_STORAGE_ROOT, env };
}
