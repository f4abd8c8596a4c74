/**
 * The trace crosses processes: a web process (worker off, the real SDK in memory) dispatches
 * inside a request span; a worker in another OS process (its own SDK, spans on stdout) runs the
 * job. The run span there is the child of the dispatch span here, through the job row only.
 */
import { Injectable, type INestApplication } from '@nestjs/common';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { JobRunnerService, JobStatus, ManagedJob } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { buildLibrary, ROOT } from '../support/processes.js';
import { idsOf, registerOtelSdk, spansNamed, type OtelSdk } from './otel-sdk.js';

/** The web process knows the job (to dispatch it) but runs no worker. */
@ManagedJob({ name: 'remote-traced' })
@Injectable()
class RemoteTracedStub {
  handle(): never {
    throw new Error('runs in the worker process only');
  }
}

interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  pid: number;
}

describe('a trace across processes (PostgreSQL)', () => {
  let sdk: OtelSdk;
  let db: TestDatabase;
  let web: INestApplication;
  let worker: ChildProcess | undefined;
  const exported: ExportedSpan[] = [];
  let output = '';

  beforeAll(async () => {
    sdk = registerOtelSdk();
    const lib = buildLibrary();
    db = await createTestDatabase('postgres');
    web = await createTestApp(db, { providers: [RemoteTracedStub], options: { worker: { enabled: false } } });
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'traced-worker.mjs')], {
      cwd: ROOT,
      env: { ...process.env, NMJ_LIB: lib, NMJ_DB: JSON.stringify(db.typeorm) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker = child;
    let pending = '';
    child.stderr!.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk) => {
        output += chunk;
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          if (line === 'ready') resolve();
          if (line.startsWith('@@SPAN ')) exported.push(JSON.parse(line.slice(7)));
        }
      });
      child.once('exit', (code) => reject(new Error(`worker process exited with ${code}: ${output}`)));
    });
  }, 180_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await web?.close();
    await db?.drop();
    await sdk?.shutdown();
  });

  async function dispatchInRequest(payload: object) {
    const runner = web.get(JobRunnerService);
    return trace.getTracer('web-app').startActiveSpan('POST /exports', async (span) => {
      try {
        return await runner.dispatch('remote-traced', payload);
      } finally {
        span.end();
      }
    });
  }

  const runSpanOf = (jobId: string) =>
    waitFor(() => exported.find((s) => s.name === 'managed-jobs run remote-traced' && s.attributes['messaging.message.id'] === jobId), {
      timeoutMs: 30_000,
      description: `the worker process's run span (output so far: ${output.slice(-2000)})`,
    });

  it('the run span in the worker process is the CONSUMER child of the dispatch span in the web process', async () => {
    const job = await dispatchInRequest({});
    const run = await runSpanOf(job.jobId);
    const [dispatch] = spansNamed(sdk.exporter, 'managed-jobs dispatch remote-traced').filter((s) => s.attributes['messaging.message.id'] === job.jobId);
    const [requestSpan] = spansNamed(sdk.exporter, 'POST /exports');

    expect(run.pid).not.toBe(process.pid);
    expect(dispatch.kind).toBe(SpanKind.PRODUCER);
    expect(dispatch.parentSpanContext?.spanId).toBe(idsOf(requestSpan).spanId);
    expect(run.kind).toBe(SpanKind.CONSUMER);
    expect(run.traceId).toBe(idsOf(dispatch).traceId);
    expect(run.parentSpanId).toBe(idsOf(dispatch).spanId);
    expect(run.attributes).toMatchObject({
      'messaging.system': 'managed-jobs',
      'messaging.destination.name': 'default',
      'messaging.message.id': job.jobId,
      'managed_jobs.job.type': 'remote-traced',
      'managed_jobs.job.attempt': 1,
    });
    expect(run.status.code).toBe(SpanStatusCode.UNSET);
    const inner = await waitFor(() => exported.find((s) => s.name === 'remote handler work' && s.traceId === run.traceId));
    expect(inner.parentSpanId).toBe(run.spanId);
    // Nothing ran here.
    expect(spansNamed(sdk.exporter, 'managed-jobs run remote-traced')).toEqual([]);
    await waitFor(async () => (await web.get(JobRunnerService).find(job.jobId))?.status === JobStatus.Completed);
  });

  it('a failed run in the worker process is recorded there with status ERROR and the exception, in the same trace', async () => {
    const job = await dispatchInRequest({ fail: true });
    const run = await runSpanOf(job.jobId);
    const [dispatch] = spansNamed(sdk.exporter, 'managed-jobs dispatch remote-traced').filter((s) => s.attributes['messaging.message.id'] === job.jobId);
    expect(run.traceId).toBe(idsOf(dispatch).traceId);
    expect(run.parentSpanId).toBe(idsOf(dispatch).spanId);
    expect(run.status).toEqual({ code: SpanStatusCode.ERROR, message: 'remote failure' });
    expect(run.events).toEqual([expect.objectContaining({ name: 'exception', attributes: expect.objectContaining({ 'exception.message': 'remote failure' }) })]);
    await waitFor(async () => (await web.get(JobRunnerService).find(job.jobId))?.status === JobStatus.Failed);
  });
});
