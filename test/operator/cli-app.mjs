/**
 * A user's `jobs-cli.ts`, in plain JS, against the built library (NMJ_LIBRARY): an app module
 * with TypeORM, the module and three jobs, handed to `runManagedJobsCli`. The database comes as
 * TypeORM options in NMJ_TYPEORM (JSON); NMJ_APP_WORKER=off turns the app's own worker off (the
 * `work` command must run one anyway), NMJ_LEASE_MS / NMJ_HEARTBEAT_MS shorten the lease.
 */
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';

const env = process.env;
const lib = await import(env.NMJ_LIBRARY);
const { ManagedJob, ManagedJobsModule, managedJobsMigrations, runManagedJobsCli } = lib;

class EchoJob {
  async handle(ctx) {
    ctx.log.info('echo', { pid: process.pid });
    return { echoed: ctx.payload?.value ?? null, pid: process.pid };
  }
}
class FailJob {
  handle() {
    throw new Error('cli job broke');
  }
}
class SlowJob {
  async handle(ctx) {
    const until = Date.now() + (ctx.payload?.ms ?? 60_000);
    while (Date.now() < until && !ctx.signal.aborted) await sleep(20);
    return { pid: process.pid, aborted: ctx.signal.aborted };
  }
}
Injectable()(EchoJob);
ManagedJob({ name: 'op-echo' })(EchoJob);
Injectable()(FailJob);
ManagedJob({ name: 'op-fail', tries: 1 })(FailJob);
Injectable()(SlowJob);
ManagedJob({ name: 'op-slow', tries: 3 })(SlowJob);

const typeorm = JSON.parse(env.NMJ_TYPEORM);
class AppModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ ...typeorm, autoLoadEntities: true, migrations: managedJobsMigrations(typeorm.type), migrationsRun: false }),
    EventEmitterModule.forRoot(),
    ManagedJobsModule.forRoot({
      worker: {
        enabled: env.NMJ_APP_WORKER !== 'off',
        pollIntervalMs: 200,
        leaseMs: Number(env.NMJ_LEASE_MS ?? 30_000),
        heartbeatIntervalMs: Number(env.NMJ_HEARTBEAT_MS ?? 1000),
        shutdownTimeoutMs: 1000,
      },
      broadcasting: { enabled: false },
      storage: { root: env.NMJ_STORAGE_ROOT },
      schedules: [{ name: 'nightly', cron: '0 3 * * *', job: 'op-echo', payload: { value: 'scheduled' } }],
    }),
  ],
  providers: [EchoJob, FailJob, SlowJob],
})(AppModule);

process.exitCode = await runManagedJobsCli(AppModule);
