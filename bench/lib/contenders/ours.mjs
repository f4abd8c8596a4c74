/**
 * nestjs-managed-jobs, used like an app would: a Nest application context with TypeOrmModule,
 * EventEmitterModule and ManagedJobsModule (the shipped migrations), and one no-op
 * `@ManagedJob`. The library is the repository's built `dist/`. Decorators are applied by hand
 * because this file is plain JavaScript.
 */
import 'reflect-metadata';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
// bench/'s own better-sqlite3, built for the bench Node runtime (the root's is built for Node 20).
import BetterSqlite3 from 'better-sqlite3';

// NMJ_BENCH_DIST: another build of the library (A/B comparisons of hot-path changes).
const dist = process.env.NMJ_BENCH_DIST ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/index.js');
const { ManagedJobsModule, ManagedJob, JobRunnerService, ManagedJobsOperatorService, ManagedJobsMaintenanceService, managedJobsMigrations } = await import(
  pathToFileURL(dist).href
);
const { fillFinished, fillWaitingMembers, idFloor } = await import('../fill/ours.mjs');

export const description = 'nestjs-managed-jobs (dist/), Nest app context, full lifecycle record + attempts ledger';

let current = async () => undefined;

class BenchNoopJob {
  handle(ctx) {
    return current(ctx.payload, (percent) => ctx.updateProgress(percent));
  }
}
Injectable()(BenchNoopJob);
ManagedJob({ name: 'bench-noop' })(BenchNoopJob);

/**
 * Queue-control variants of the same no-op job (`o.job`): `unique` (a key per payload: every
 * dispatch inserts, through the unique path), `keys100` (concurrency 1 per key, 100 keys),
 * `rate` (`rateLimit: { max: o.rateMax, perSeconds: 1 }`, one key).
 */
const variants = {
  unique: { name: 'bench-unique', unique: { key: (p) => `u${p.i ?? p.warm ?? p.t}` } },
  keys100: { name: 'bench-keys100', concurrency: { limit: 1, key: (p) => `k${(p.i ?? 0) % 100}` } },
  rate: { name: 'bench-rate', rateLimit: { max: Number(process.env.NMJ_BENCH_RATE_MAX ?? 200), perSeconds: 1 } },
};
const variantClasses = Object.fromEntries(
  Object.entries(variants).map(([id, options]) => {
    const cls = { [id]: class extends BenchNoopJob {} }[id];
    Injectable()(cls);
    ManagedJob(options)(cls);
    return [id, cls];
  }),
);

/** @param {{ db: 'sqlite'|'postgres'|'mariadb', env: any, worker?: { concurrency: number, handler: Function }, job?: 'unique'|'keys100'|'rate' }} o */
export async function open(o) {
  if (o.worker) current = o.worker.handler;
  const Job = o.job ? variantClasses[o.job] : BenchNoopJob;
  const typeorm =
    o.db === 'sqlite'
      ? { type: 'better-sqlite3', database: o.env.sqliteFile, driver: BetterSqlite3 }
      : o.db === 'mariadb'
        ? // mysql2 comes from the repository's node_modules (a root devDependency), through TypeORM.
          { type: 'mariadb', host: o.env.mariadb.host, port: o.env.mariadb.port, username: o.env.mariadb.user, password: o.env.mariadb.password, database: o.env.mariadb.database, timezone: 'Z', poolSize: o.env.poolSize }
        : { type: 'postgres', host: o.env.pg.host, port: o.env.pg.port, username: o.env.pg.user, password: o.env.pg.password, database: o.env.pg.database, extra: { max: o.env.poolSize } };
  class BenchAppModule {}
  Module({
    imports: [
      TypeOrmModule.forRoot({ ...typeorm, autoLoadEntities: true, migrations: managedJobsMigrations(typeorm.type), migrationsRun: true, logging: false }),
      EventEmitterModule.forRoot(),
      ManagedJobsModule.forRoot({
        worker: o.worker ? { enabled: true, concurrency: o.worker.concurrency } : { enabled: false },
        storage: { root: path.join(o.env.tmp, 'storage') },
        // NMJ_BENCH_TELEMETRY=off: the telemetry cost A/B (on without an SDK vs off) in one build.
        ...(process.env.NMJ_BENCH_TELEMETRY === 'off' ? { telemetry: { enabled: false } } : {}),
      }),
    ],
    // Only the job of this run: a limited type (concurrency or rate) costs an idle worker a short
    // transaction per wake-up, which the plain scenarios must not pay for a job they never run.
    providers: [Job],
  })(BenchAppModule);
  const app = await NestFactory.createApplicationContext(BenchAppModule, { logger: ['error', 'warn'] });
  const jobs = app.get(JobRunnerService);
  const ds = app.get(getDataSourceToken());
  return {
    enqueue: (data) => jobs.dispatch(Job, data),
    enqueueBulk: (datas) => jobs.dispatchMany(Job, datas.map((payload) => ({ payload }))),
    /** One batch (`jobRunner.batch()`, one transaction) of no-op members, one per payload. */
    enqueueBatch: (datas) => jobs.batch(datas.map((payload) => ({ job: Job, payload }))),
    async countBatchesDone() {
      const [row] = await ds.query(`SELECT count(*) AS n FROM managed_job_batches WHERE status = 'completed'`);
      return Number(row.n);
    },
    /** Completed jobs; with `since` (ms), only those created from then on (one range of the ended index, not a count of a big table). */
    async countDone(_expected, sinceMs) {
      const since = sinceMs && idFloor(sinceMs);
      const p = o.db === 'postgres' ? '$1' : '?';
      const [row] = since
        ? await ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE status = 'completed' AND queue = 'default' AND job_id >= ${p}`, [since])
        : await ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE status = 'completed'`);
      return Number(row.n);
    },
    /** One page (20, newest first) of an owner's jobs, as an app's "my jobs" page asks for it. */
    listOwner: (ownerId) => jobs.list({ ownerId, limit: 20 }),
    /** The operator's counts by queue and status. */
    stats: () => app.get(ManagedJobsOperatorService).stats(),
    /** `count` finished jobs cloned from the newest completed one (bench/lib/fill/ours.mjs); the fill's ms and the row counts after it. */
    async fillFinished(f) {
      const [tpl] = await ds.query(`SELECT job_id FROM managed_jobs WHERE status = 'completed' AND queue = 'default' ORDER BY job_id DESC LIMIT 1`);
      const ms = await fillFinished(ds, o.db, { ...f, templateId: tpl.job_id });
      const [jobsRow] = await ds.query(`SELECT count(*) AS n FROM managed_jobs`);
      const [ledgerRow] = await ds.query(`SELECT count(*) AS n FROM managed_job_attempts`);
      return { ms, table: { managed_jobs: Number(jobsRow.n), managed_job_attempts: Number(ledgerRow.n) } };
    },
    fillWaiting: (f) => fillWaitingMembers(jobs, Job, f),
    /**
     * The engine's own prune (`ManagedJobsMaintenanceService.pruneFinished`), each store call timed:
     * `statements` are the durations of every read and write it made (on SQLite a write is one
     * transaction), `pruned` the jobs it deleted.
     */
    async prune(olderThanDays) {
      const svc = app.get(ManagedJobsMaintenanceService);
      const store = svc.store;
      const statements = [];
      const timed = (name) => async (...a) => {
        const t = performance.now();
        try {
          return await store[name](...a);
        } finally {
          statements.push({ name, ms: performance.now() - t });
        }
      };
      svc.store = Object.create(store, { prunableJobs: { value: timed('prunableJobs') }, pruneFinished: { value: timed('pruneFinished') } });
      try {
        const pruned = await svc.pruneFinished(olderThanDays);
        return { pruned, statements };
      } finally {
        svc.store = store;
      }
    },
    close: () => app.close(),
  };
}
