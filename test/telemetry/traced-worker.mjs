// A worker-only process with the OpenTelemetry SDK, as users run one next to their web app: its
// spans go to stdout as `@@SPAN {json}` lines for telemetry-processes.spec.ts to read.
// Env: NMJ_LIB (path of the built lib/index.js), NMJ_DB (JSON TypeORM options).
import 'reflect-metadata';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';

// The SDK is registered before the app is created (an app's `--import ./otel.mjs`).
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const stdoutExporter = {
  export(spans, done) {
    for (const s of spans) {
      const line = {
        name: s.name,
        kind: s.kind,
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId ?? null,
        attributes: s.attributes,
        status: s.status,
        events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
        pid: process.pid,
      };
      process.stdout.write(`@@SPAN ${JSON.stringify(line)}\n`);
    }
    done({ code: 0 });
  },
  shutdown: async () => undefined,
  forceFlush: async () => undefined,
};
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: stdoutExporter })] }));

const { ManagedJob, ManagedJobsModule } = await import(process.env.NMJ_LIB);

class RemoteTracedJob {
  async handle(ctx) {
    await trace.getTracer('worker-app').startActiveSpan('remote handler work', async (span) => {
      await new Promise((r) => setTimeout(r, 10));
      span.end();
    });
    if (ctx.payload?.fail) throw new Error('remote failure');
    return { pid: process.pid };
  }
}
Injectable()(RemoteTracedJob);
ManagedJob({ name: 'remote-traced' })(RemoteTracedJob);

class WorkerModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({ ...JSON.parse(process.env.NMJ_DB), autoLoadEntities: true }),
    ManagedJobsModule.forRoot({ gateway: false, worker: { pollIntervalMs: 200, heartbeatIntervalMs: 200 } }),
  ],
  providers: [RemoteTracedJob],
})(WorkerModule);

const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
process.stdout.write('ready\n');
