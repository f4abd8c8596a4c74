/**
 * OpenTelemetry, in one process, on every dialect, with the real SDK and in-memory exporters:
 * span names, kinds, attributes and parentage (a request span → dispatch → run → the handler's
 * own span), batches, a caller's transaction, errors and retries, metric values after a known
 * workload, the queue depth gauge, and `telemetry.enabled: false`.
 */
import type { INestApplication } from '@nestjs/common';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { JobRunnerService, JobStatus, type ManagedJobEntity } from '../../lib/index.js';
import { JOB_STORE } from '../../lib/managed-jobs.constants.js';
import type { JobStore } from '../../lib/store/job-store.interface.js';
import { createTestApp, type TestAppOptions } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { dataPoints, histogramOf, idsOf, registerOtelSdk, spansNamed, valueOf, type OtelSdk } from './otel-sdk.js';
import { telemetryJobs } from './telemetry-jobs.js';

let sdk: OtelSdk;
beforeAll(() => (sdk = registerOtelSdk()));
afterAll(() => sdk.shutdown());

const RUN = (type: string) => `managed-jobs run ${type}`;
const DISPATCH = (type: string) => `managed-jobs dispatch ${type}`;

describe.each(dialects)('telemetry on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication | undefined;
  let runner: JobRunnerService;

  beforeEach(async () => {
    db = await createTestDatabase(dialect);
    sdk.exporter.reset();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await db.drop();
  });

  async function start(options: NonNullable<TestAppOptions['options']> = {}) {
    app = await createTestApp(db, { providers: telemetryJobs, options: { ...options, worker: { pollIntervalMs: 100, ...options.worker } } });
    runner = app.get(JobRunnerService);
  }

  const settled = (jobId: string) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && [JobStatus.Completed, JobStatus.Failed].includes(job.status) ? job : null;
    });

  /** Spans are exported when they end, which may be a moment after the row changed. */
  const spans = (name: string, count: number) => waitFor(() => (spansNamed(sdk.exporter, name).length >= count ? spansNamed(sdk.exporter, name) : null));

  it('a dispatch inside a request span is its PRODUCER child; the run is a CONSUMER child of the dispatch, and the handler’s spans nest in the run', async () => {
    await start();
    const job = await trace.getTracer('test-app').startActiveSpan('GET /exports', async (span) => {
      try {
        return await runner.dispatch('traced', { ms: 10 });
      } finally {
        span.end();
      }
    });
    expect(job.traceContext).toMatch(/"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"/);
    await settled(job.jobId);

    const [outer] = await spans('GET /exports', 1);
    const [dispatch] = await spans(DISPATCH('traced'), 1);
    const [run] = await spans(RUN('traced'), 1);
    const [inside] = await spans('inside the handler', 1);

    expect(dispatch.kind).toBe(SpanKind.PRODUCER);
    expect(dispatch.parentSpanContext?.spanId).toBe(idsOf(outer).spanId);
    expect(dispatch.attributes).toMatchObject({
      'messaging.system': 'managed-jobs',
      'messaging.destination.name': 'default',
      'messaging.message.id': job.jobId,
      'managed_jobs.job.type': 'traced',
    });

    expect(run.kind).toBe(SpanKind.CONSUMER);
    expect(idsOf(run).traceId).toBe(idsOf(dispatch).traceId);
    expect(run.parentSpanContext?.spanId).toBe(idsOf(dispatch).spanId);
    expect(run.attributes).toEqual(
      expect.objectContaining({
        'messaging.system': 'managed-jobs',
        'messaging.destination.name': 'default',
        'messaging.message.id': job.jobId,
        'managed_jobs.job.type': 'traced',
        'managed_jobs.job.attempt': 1,
      }),
    );
    expect(run.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(inside.parentSpanContext?.spanId).toBe(idsOf(run).spanId);
  });

  it('a batch has one dispatch span, the parent of every member’s run; a dispatch in the caller’s transaction carries it too', async () => {
    await start();
    const jobs = await runner.dispatchMany('traced', [{ payload: { ms: 1 } }, { payload: { ms: 1 } }, { payload: { ms: 1 } }]);
    const ds = app!.get<DataSource>(getDataSourceToken());
    const inTx = await ds.transaction((manager) => runner.dispatch('traced', { ms: 1 }, { manager }));
    for (const job of [...jobs, inTx]) await settled(job.jobId);

    const dispatches = await spans(DISPATCH('traced'), 2);
    const [batch] = dispatches.filter((s) => s.attributes['messaging.batch.message_count'] === 3);
    const [single] = dispatches.filter((s) => s.attributes['messaging.message.id'] === inTx.jobId);
    expect(batch.kind).toBe(SpanKind.PRODUCER);
    expect(batch.attributes['messaging.message.id']).toBeUndefined();
    const runs = await spans(RUN('traced'), 4);
    const parentOf = new Map(runs.map((r) => [r.attributes['messaging.message.id'], r.parentSpanContext?.spanId]));
    expect(jobs.map((j) => parentOf.get(j.jobId))).toEqual([idsOf(batch).spanId, idsOf(batch).spanId, idsOf(batch).spanId]);
    expect(parentOf.get(inTx.jobId)).toBe(idsOf(single).spanId);
  });

  it('a workflow batch has one dispatch span: every member’s run and its then / finally callbacks are its children', async () => {
    await start();
    const batch = await runner.batch(
      [
        { job: 'traced', payload: { ms: 1 }, key: 'a' },
        { job: 'traced', payload: { ms: 1 }, key: 'b', dependsOn: ['a'] },
        { job: 'traced', payload: { ms: 1 } },
      ],
      { then: { job: 'traced', payload: { ms: 1 } }, finally: { job: 'traced', payload: { ms: 1 } } },
    );
    await waitFor(async () => (await runner.findBatch(batch.batchId))?.status === 'completed');
    const members = (await runner.list({ batchId: batch.batchId })).data;
    const runs = await spans(RUN('traced'), 5);
    const [dispatch] = (await spans(DISPATCH('traced'), 1)).filter((s) => s.attributes['messaging.batch.message_count'] === 3);
    expect(dispatch.kind).toBe(SpanKind.PRODUCER);
    expect(runs).toHaveLength(5); // three members, then, finally
    for (const run of runs) {
      expect(run.parentSpanContext?.spanId).toBe(idsOf(dispatch).spanId);
      expect(idsOf(run).traceId).toBe(idsOf(dispatch).traceId);
    }
    expect(members.map((m) => m.jobId).every((id) => runs.some((r) => r.attributes['messaging.message.id'] === id))).toBe(true);
  });

  it('a failed run ends ERROR with the exception; each attempt is its own run span under the same dispatch', async () => {
    await start();
    const flaky = await runner.dispatch('flaky', {});
    const doomed = await runner.dispatch('doomed', {});
    expect((await settled(flaky.jobId)).status).toBe(JobStatus.Completed);
    expect((await settled(doomed.jobId)).status).toBe(JobStatus.Failed);

    const [flakyDispatch] = await spans(DISPATCH('flaky'), 1);
    const flakyRuns = (await spans(RUN('flaky'), 2)).sort((a, b) => Number(a.attributes['managed_jobs.job.attempt']) - Number(b.attributes['managed_jobs.job.attempt']));
    expect(flakyRuns.map((s) => [s.attributes['managed_jobs.job.attempt'], s.status.code, s.parentSpanContext?.spanId])).toEqual([
      [1, SpanStatusCode.ERROR, idsOf(flakyDispatch).spanId],
      [2, SpanStatusCode.UNSET, idsOf(flakyDispatch).spanId],
    ]);
    expect(flakyRuns[0].status.message).toBe('flaky first try');

    const [doomedRun] = await spans(RUN('doomed'), 1);
    expect(doomedRun.status).toEqual({ code: SpanStatusCode.ERROR, message: 'doomed for good' });
    const exception = doomedRun.events.find((e) => e.name === 'exception');
    expect(exception?.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'doomed for good' });
    expect(String(exception?.attributes?.['exception.stacktrace'])).toContain('doomed for good');
  });

  it('counts dispatched, completed, failed and retried jobs, and records wait and run durations in seconds', async () => {
    await start();
    const at = (type: string) => ({ 'managed_jobs.job.type': type, 'messaging.destination.name': 'default' });
    const before = {
      dispatched: await valueOf(sdk.reader, 'managed_jobs.jobs.dispatched', at('traced')),
      completed: await valueOf(sdk.reader, 'managed_jobs.jobs.completed', at('traced')),
      flakyCompleted: await valueOf(sdk.reader, 'managed_jobs.jobs.completed', at('flaky')),
      retried: await valueOf(sdk.reader, 'managed_jobs.jobs.retried', at('flaky')),
      failed: await valueOf(sdk.reader, 'managed_jobs.jobs.failed', at('doomed')),
      runs: await histogramOf(sdk.reader, 'managed_jobs.job.run_duration', at('traced')),
      waits: await histogramOf(sdk.reader, 'managed_jobs.job.wait_duration', at('traced')),
    };
    // A job due 1.5 s before it is claimed (dispatched with the worker busy elsewhere is flaky; a past availableAt is exact).
    const late = await runner.dispatch('traced', { ms: 300 }, { availableAt: new Date(Date.now() - 1500) });
    const batch = await runner.dispatchMany('traced', [{ payload: { ms: 300 } }, { payload: { ms: 300 } }]);
    const flaky = await runner.dispatch('flaky', {});
    const doomed = await runner.dispatch('doomed', {});
    for (const job of [late, ...batch, flaky, doomed]) await settled(job.jobId);

    await waitFor(async () => (await valueOf(sdk.reader, 'managed_jobs.jobs.completed', at('traced'))) - before.completed === 3);
    expect((await valueOf(sdk.reader, 'managed_jobs.jobs.dispatched', at('traced'))) - before.dispatched).toBe(3);
    expect((await valueOf(sdk.reader, 'managed_jobs.jobs.completed', at('flaky'))) - before.flakyCompleted).toBe(1);
    expect((await valueOf(sdk.reader, 'managed_jobs.jobs.retried', at('flaky'))) - before.retried).toBe(1);
    expect((await valueOf(sdk.reader, 'managed_jobs.jobs.failed', at('doomed'))) - before.failed).toBe(1);

    const runs = await histogramOf(sdk.reader, 'managed_jobs.job.run_duration', at('traced'));
    expect(runs.count - before.runs.count).toBe(3);
    const meanRun = (runs.sum - before.runs.sum) / 3;
    expect(meanRun).toBeGreaterThanOrEqual(0.29); // seconds, not milliseconds
    expect(meanRun).toBeLessThan(5);
    const waits = await histogramOf(sdk.reader, 'managed_jobs.job.wait_duration', at('traced'));
    expect(waits.count - before.waits.count).toBe(3);
    expect(waits.max).toBeGreaterThanOrEqual(1.4);
    expect(waits.max).toBeLessThan(60);
  });

  it('counts runs lost with their worker: re-queued as retried, failed (not idempotent) as failed', async () => {
    await start({ worker: { reaperIntervalMs: 150 } });
    const at = (type: string) => ({ 'managed_jobs.job.type': type, 'messaging.destination.name': 'unworked' });
    const before = { retried: await valueOf(sdk.reader, 'managed_jobs.jobs.retried', at('traced')), failed: await valueOf(sdk.reader, 'managed_jobs.jobs.failed', at('fragile')) };
    const again = await runner.dispatch('traced', { ms: 1 }, { queue: 'unworked' });
    const lost = await runner.dispatch('fragile', {}, { queue: 'unworked' });
    // A worker that claims them and dies: their leases run out, nobody renews them.
    const claimed = await app!.get<JobStore>(JOB_STORE).claim({ queue: 'unworked', types: ['traced', 'fragile'], limit: 2, workerId: 'ghost', leaseMs: 100 });
    expect(claimed.map((j) => j.jobId).sort()).toEqual([again.jobId, lost.jobId].sort());
    expect((await settled(lost.jobId)).status).toBe(JobStatus.Failed);
    await waitFor(async () => (await runner.find(again.jobId))?.status === JobStatus.Pending);
    await waitFor(async () => (await valueOf(sdk.reader, 'managed_jobs.jobs.failed', at('fragile'))) === before.failed + 1);
    await waitFor(async () => (await valueOf(sdk.reader, 'managed_jobs.jobs.retried', at('traced'))) === before.retried + 1);
  });

  it('observes the queue depth per queue and status, 0 for the worker’s empty queues', async () => {
    await start();
    await runner.dispatchMany('traced', [1, 2, 3].map(() => ({ payload: {}, options: { queue: 'parked' } })));
    await runner.dispatch('traced', {}, { queue: 'parked', delayMs: 60_000 });
    const depth = (queue: string, status: string) => valueOf(sdk.reader, 'managed_jobs.queue.depth', { queue, status });
    expect(await depth('parked', 'pending')).toBe(4);
    expect(await depth('parked', 'running')).toBe(0);
    await waitFor(async () => (await depth('default', 'pending')) === 0 && (await depth('default', 'running')) === 0);
    expect((await dataPoints(sdk.reader, 'managed_jobs.queue.depth')).some((p) => p.attributes.queue === 'default' && p.attributes.status === 'pending')).toBe(true);
  });

  it('with telemetry.enabled false records nothing and writes no trace context', async () => {
    await start({ telemetry: { enabled: false } });
    const request = trace.getTracer('test-app');
    const job: ManagedJobEntity = await request.startActiveSpan('GET /quiet', async (span) => {
      try {
        return await runner.dispatch('traced', { ms: 1 });
      } finally {
        span.end();
      }
    });
    await settled(job.jobId);
    expect(job.traceContext).toBeNull();
    expect((await runner.find(job.jobId))!.traceContext).toBeNull();
    expect(spansNamed(sdk.exporter, DISPATCH('traced'))).toEqual([]);
    expect(spansNamed(sdk.exporter, RUN('traced'))).toEqual([]);
    // The handler's own span is still recorded (the app's SDK works), with no run span of ours around it.
    const [inside] = await spans('inside the handler', 1);
    expect(sdk.exporter.getFinishedSpans().filter((s) => s.spanContext().spanId === inside.parentSpanContext?.spanId).map((s) => s.name)).not.toContain(RUN('traced'));
  });
});
