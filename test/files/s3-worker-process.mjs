// A worker-only process on another "host": no HTTP server, no gateway, the same PostgreSQL
// database and the same bucket as the web process. It writes job files with S3StorageDriver.
// Spawned by s3-cross-process.spec.ts with the library built into NMJ_LIB (plain JS, so the
// decorators are applied as functions).
// Env: NMJ_LIB (built lib/index.js), NMJ_DB (JSON TypeORM options), NMJ_S3 (JSON driver options).
import 'reflect-metadata';
import { Readable } from 'node:stream';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';

const { ManagedJob, ManagedJobsModule, S3StorageDriver } = await import(process.env.NMJ_LIB);

class RemoteReportJob {
  async handle(ctx) {
    // Streamed line by line, as an export would be.
    const lines = Readable.from((function* () {
      for (let i = 1; i <= ctx.payload.lines; i++) yield `line ${i} written by ${process.pid}\n`;
    })());
    const file = await ctx.putFile('report.csv', lines, { mimeType: 'text/csv' });
    return { pid: process.pid, fileId: file.jobFileId };
  }
}
Injectable()(RemoteReportJob);
ManagedJob({ name: 's3-remote-report' })(RemoteReportJob);

class WorkerModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ ...JSON.parse(process.env.NMJ_DB), autoLoadEntities: true }),
    ManagedJobsModule.forRoot({
      gateway: false,
      storage: { driver: new S3StorageDriver(JSON.parse(process.env.NMJ_S3)) },
      worker: { pollIntervalMs: 200, heartbeatIntervalMs: 200 },
    }),
  ],
  providers: [RemoteReportJob],
})(WorkerModule);

const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
process.stdout.write('ready\n');
