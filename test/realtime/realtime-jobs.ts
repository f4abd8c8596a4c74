import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedJob, type JobContext, type ManagedJobHandler } from '../../lib/index.js';

/** Calls `updateProgress` `calls` times in a tight loop (yielding now and then), then returns. */
@ManagedJob({ name: 'progress-flood' })
export class ProgressFloodJob implements ManagedJobHandler<{ calls: number }> {
  async handle(ctx: JobContext<{ calls: number }>) {
    const calls = ctx.payload.calls;
    for (let i = 1; i <= calls; i++) {
      await ctx.updateProgress(Math.floor((i / calls) * 100), `call ${i}`);
      if (i % 2000 === 0) await sleep(20);
    }
    return { calls };
  }
}

/** Fails at once with a message. */
@ManagedJob({ name: 'explode' })
export class ExplodeJob implements ManagedJobHandler {
  async handle(ctx: JobContext): Promise<never> {
    await ctx.updateProgress(40, 'about to fail');
    throw new Error('kaboom');
  }
}

/** Returns a result bigger than a NOTIFY payload may be. */
@ManagedJob({ name: 'big-result' })
export class BigResultJob implements ManagedJobHandler {
  async handle() {
    return { blob: 'x'.repeat(20_000) };
  }
}

/**
 * Registered in the web process of the cross-process test, whose worker is off: the job runs
 * only in the worker process (test/realtime/worker-process.mjs), which has the real handler.
 */
@ManagedJob({ name: 'cross-process' })
export class CrossProcessJobStub implements ManagedJobHandler {
  async handle(): Promise<never> {
    throw new Error('cross-process jobs run in the worker process only');
  }
}
