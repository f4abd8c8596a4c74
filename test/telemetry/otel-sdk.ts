/**
 * The real OpenTelemetry SDK, registered globally once per spec file (as an app's `otel.mjs`
 * would before creating the Nest app): async-local-storage context, W3C trace context
 * propagation, every span kept in memory, metrics read on demand.
 */
import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface OtelSdk {
  exporter: InMemorySpanExporter;
  reader: MetricReader;
  shutdown(): Promise<void>;
}

export function registerOtelSdk(): OtelSdk {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  trace.setGlobalTracerProvider(tracerProvider);
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    exporter,
    reader,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The finished spans of one job type, oldest first. */
export function spansNamed(exporter: InMemorySpanExporter, name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

export const idsOf = (span: ReadableSpan) => ({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });

/** Every data point of a metric, as collected now (cumulative). */
export async function dataPoints<T = number>(reader: MetricReader, name: string): Promise<Array<DataPoint<T>>> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as Array<DataPoint<T>>);
}

const matches = (attributes: Attributes, wanted: Attributes) => Object.entries(wanted).every(([k, v]) => attributes[k] === v);

/** A counter's (or gauge's) value for the points whose attributes include `wanted` (summed). */
export async function valueOf(reader: MetricReader, name: string, wanted: Attributes): Promise<number> {
  return (await dataPoints<number>(reader, name)).filter((p) => matches(p.attributes, wanted)).reduce((sum, p) => sum + p.value, 0);
}

/** A histogram's count and sum for the points whose attributes include `wanted`. */
export async function histogramOf(reader: MetricReader, name: string, wanted: Attributes): Promise<{ count: number; sum: number; max: number }> {
  const points = (await dataPoints<Histogram>(reader, name)).filter((p) => matches(p.attributes, wanted));
  return {
    count: points.reduce((n, p) => n + p.value.count, 0),
    sum: points.reduce((n, p) => n + (p.value.sum ?? 0), 0),
    max: Math.max(0, ...points.map((p) => p.value.max ?? 0)),
  };
}
