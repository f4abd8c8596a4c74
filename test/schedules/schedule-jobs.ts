import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobContext, ManagedJob, ManagedJobHandler } from '../../lib/index.js';

/** What the scheduled jobs did, for assertions. */
@Injectable()
export class ScheduleProbe {
  runs: Array<{ type: string; jobId: string; payload: unknown; owner: string | null; at: number }> = [];
}

@ManagedJob({ name: 'tick' })
export class TickJob implements ManagedJobHandler {
  constructor(private readonly probe: ScheduleProbe) {}
  async handle(ctx: JobContext) {
    this.probe.runs.push({ type: 'tick', jobId: ctx.jobId, payload: ctx.payload, owner: ctx.job.ownerUserId, at: Date.now() });
    return { at: Date.now() };
  }
}

/** Runs for `payload.ms` (default 2.5 s): a job that is still running when the next occurrence comes. */
@ManagedJob({ name: 'slow-tick' })
export class SlowTickJob implements ManagedJobHandler<{ ms?: number } | null> {
  constructor(private readonly probe: ScheduleProbe) {}
  async handle(ctx: JobContext<{ ms?: number } | null>) {
    this.probe.runs.push({ type: 'slow-tick', jobId: ctx.jobId, payload: ctx.payload, owner: ctx.job.ownerUserId, at: Date.now() });
    await sleep(ctx.payload?.ms ?? 2500);
    return null;
  }
}

/** Declares its own schedule in code. */
@ManagedJob({ name: 'declared-tick', schedule: { cron: '*/2 * * * * *', payload: { from: 'decorator' } } })
export class DeclaredTickJob implements ManagedJobHandler {
  constructor(private readonly probe: ScheduleProbe) {}
  async handle(ctx: JobContext) {
    this.probe.runs.push({ type: 'declared-tick', jobId: ctx.jobId, payload: ctx.payload, owner: ctx.job.ownerUserId, at: Date.now() });
    return null;
  }
}

/** The same job in a later version of the code, without its schedule. */
@ManagedJob({ name: 'declared-tick' })
export class UndeclaredTickJob implements ManagedJobHandler {
  async handle() {
    return null;
  }
}

export const scheduleJobs = [ScheduleProbe, TickJob, SlowTickJob];
