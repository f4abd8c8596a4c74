import { Injectable } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobContext, ManagedJob, ManagedJobHandler } from '../../lib/index.js';

/** Opens a span of its own inside the run (it must nest under the run span) and takes a known time. */
@ManagedJob({ name: 'traced' })
@Injectable()
export class TracedJob implements ManagedJobHandler<{ ms?: number }, { ok: true }> {
  async handle(ctx: JobContext<{ ms?: number }>) {
    await trace.getTracer('test-app').startActiveSpan('inside the handler', async (span) => {
      await sleep(ctx.payload?.ms ?? 20);
      span.end();
    });
    return { ok: true as const };
  }
}

/** Fails its first try, succeeds on the second. */
@ManagedJob({ name: 'flaky', tries: 2, backoff: 0 })
@Injectable()
export class FlakyJob implements ManagedJobHandler<unknown, string> {
  async handle(ctx: JobContext) {
    if (ctx.attempt === 1) throw new Error('flaky first try');
    return 'second try';
  }
}

/** Always fails, with one try. */
@ManagedJob({ name: 'doomed', tries: 1 })
@Injectable()
export class DoomedJob implements ManagedJobHandler {
  async handle(): Promise<never> {
    throw new TypeError('doomed for good');
  }
}

/** Must not run twice: a run lost with its worker ends `failed`. */
@ManagedJob({ name: 'fragile', idempotent: false })
@Injectable()
export class FragileJob implements ManagedJobHandler {
  async handle() {
    return 'done';
  }
}

export const telemetryJobs = [TracedJob, FlakyJob, DoomedJob, FragileJob];
