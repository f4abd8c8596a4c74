import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedJob, type JobContext } from '../../lib/index.js';

/** Completes with its payload; logs a line per `lines` (and one with data). */
@ManagedJob({ name: 'op-echo' })
export class EchoJob {
  async handle(ctx: JobContext<{ lines?: number; value?: unknown }>) {
    await ctx.step('first', () => 'one');
    ctx.log.info('starting', { value: ctx.payload?.value ?? null });
    for (let i = 1; i < (ctx.payload?.lines ?? 1); i++) ctx.log.info(`line ${i}`);
    await ctx.putFile('out.txt', 'hello', { mimeType: 'text/plain' });
    return { echoed: ctx.payload?.value ?? null };
  }
}

/** Fails every run with a message naming the run; two tries. */
@ManagedJob({ name: 'op-fail', tries: 2, backoff: 0 })
export class FailJob {
  handle(ctx: JobContext): never {
    ctx.log.error(`run ${ctx.attempt} is about to fail`);
    throw new Error(`run ${ctx.attempt} broke`);
  }
}

/** Runs until stopped. */
@ManagedJob({ name: 'op-slow' })
export class SlowJob {
  async handle(ctx: JobContext) {
    while (!(await ctx.isStopped())) await sleep(20);
  }
}

export const operatorJobs = [EchoJob, FailJob, SlowJob];
