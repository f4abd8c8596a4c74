/**
 * A worker process with durable schedules, for the multi-process schedule specs and the delay
 * figure (bench/schedule-delay.mjs). Plain JS on the built library (NMJ_LIBRARY).
 *
 * Env: NMJ_LIBRARY (built index.js), NMJ_DB (JSON TypeORM options), NMJ_SCHEDULES (JSON array of
 * ScheduleDefinition with `job` as a name, declared through forRoot), NMJ_WORKER_ID,
 * NMJ_POLL_INTERVAL_MS. Prints `@@NMJ {"type":"ready"}` once running.
 */
import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';

const lib = await import(pathToFileURL(process.env.NMJ_LIBRARY).href);
const { ManagedJob, ManagedJobsModule } = lib;
const report = (message) => process.stdout.write(`@@NMJ ${JSON.stringify({ ...message, at: Date.now() })}\n`);

class TickJob {
  async handle(ctx) {
    return { worker: process.env.NMJ_WORKER_ID, startedAt: Date.now() };
  }
}
Injectable()(TickJob);
ManagedJob({ name: 'tick' })(TickJob);

const database = JSON.parse(process.env.NMJ_DB);
class ScheduleApp {}
Module({
  imports: [
    TypeOrmModule.forRoot({ ...database, autoLoadEntities: true, ...(database.type === 'postgres' ? { extra: { max: 6 } } : {}) }),
    ManagedJobsModule.forRoot({
      gateway: false,
      broadcasting: { enabled: false },
      schedule: { enabled: false },
      worker: { id: process.env.NMJ_WORKER_ID, pollIntervalMs: Number(process.env.NMJ_POLL_INTERVAL_MS ?? 1000), concurrency: 4 },
      schedules: JSON.parse(process.env.NMJ_SCHEDULES ?? '[]'),
    }),
  ],
  providers: [TickJob],
})(ScheduleApp);

try {
  const app = await NestFactory.createApplicationContext(ScheduleApp, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  report({ type: 'ready', pid: process.pid });
} catch (error) {
  console.error(`[schedule-app] could not start: ${error?.stack ?? error}`);
  process.exit(1);
}
