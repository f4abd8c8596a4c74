// A worker-only process, as users run one next to their web app: no HTTP server, no gateway,
// the same PostgreSQL database. Spawned by cross-process.spec.ts with the library built into
// NMJ_LIB (plain JS, so decorators are applied as functions).
// Env: NMJ_LIB (path of the built lib/index.js), NMJ_DB (JSON TypeORM options).
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';

const { ManagedJob, ManagedJobsModule } = await import(process.env.NMJ_LIB);

class CrossProcessJob {
  async handle(ctx) {
    for (let step = 1; step <= 4; step++) {
      await sleep(60);
      await ctx.updateProgress(step * 25, `step ${step} in ${process.pid}`);
    }
    return ctx.payload?.big ? { pid: process.pid, blob: 'x'.repeat(20_000) } : { pid: process.pid };
  }
}
Injectable()(CrossProcessJob);
ManagedJob({ name: 'cross-process' })(CrossProcessJob);

class WorkerModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ ...JSON.parse(process.env.NMJ_DB), autoLoadEntities: true }),
    ManagedJobsModule.forRoot({
      gateway: false,
      worker: { pollIntervalMs: 200, heartbeatIntervalMs: 200 },
    }),
  ],
  providers: [CrossProcessJob],
})(WorkerModule);

const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
process.stdout.write('ready\n');
