/**
 * `@opentelemetry/api` installed but no SDK registered (the common case of an app that has the API
 * through some other dependency): nothing is recorded, no trace context is written, and the run
 * executor calls handlers bare (`enabled` false). An SDK registered later is picked up by the
 * next dispatch and run.
 */
import type { INestApplication } from '@nestjs/common';
import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { JobRunnerService, JobStatus } from '../../lib/index.js';
import { JOB_TELEMETRY } from '../../lib/managed-jobs.constants.js';
import type { JobTelemetry } from '../../lib/telemetry/job-telemetry.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { telemetryJobs } from './telemetry-jobs.js';

describe.each(dialects)('telemetry with the API but no SDK on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication | undefined;

  beforeEach(async () => (db = await createTestDatabase(dialect)));
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await db.drop();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('records nothing until an SDK is registered, then traces the next dispatch and run', async () => {
    app = await createTestApp(db, { providers: telemetryJobs, options: { worker: { pollIntervalMs: 100 } } });
    const runner = app.get(JobRunnerService);
    const telemetry = app.get<JobTelemetry>(JOB_TELEMETRY);
    expect(telemetry.enabled).toBe(false);

    const quiet = await runner.dispatch('traced', { ms: 1 });
    expect(quiet.traceContext).toBeNull();
    await waitFor(async () => (await runner.find(quiet.jobId))?.status === JobStatus.Completed);

    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    expect(telemetry.enabled).toBe(true);

    const traced = await runner.dispatch('traced', { ms: 1 });
    expect(traced.traceContext).toMatch(/traceparent/);
    const run = await waitFor(() => exporter.getFinishedSpans().find((s) => s.name === 'managed-jobs run traced'));
    expect(run.kind).toBe(SpanKind.CONSUMER);
    expect(run.attributes['messaging.message.id']).toBe(traced.jobId);
    expect(exporter.getFinishedSpans().some((s) => s.attributes['messaging.message.id'] === quiet.jobId)).toBe(false);
  });
});
