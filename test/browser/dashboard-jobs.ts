import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedJob, type JobContext } from '../../lib/index.js';

/** Switches for the dashboard's jobs, set by the test. */
export const dashboardSwitches = { flakyFails: true };

/** Completes with its payload after a step, a file and a log line. */
@ManagedJob({ name: 'dash-echo' })
export class DashEchoJob {
  async handle(ctx: JobContext<{ value?: unknown }>) {
    await ctx.step('prepare', () => ({ ready: true }));
    ctx.log.info('echoing', { value: ctx.payload?.value ?? null });
    await ctx.putFile('echo.txt', 'hello', { mimeType: 'text/plain' });
    return { echoed: ctx.payload?.value ?? null };
  }
}

/** Moves its bar in small steps for a few seconds (`steps` × `stepMs`). */
@ManagedJob({ name: 'dash-progress' })
export class DashProgressJob {
  async handle(ctx: JobContext<{ steps?: number; stepMs?: number }>) {
    const steps = ctx.payload?.steps ?? 30;
    for (let i = 1; i <= steps; i++) {
      if (await ctx.isStopped()) return;
      await sleep(ctx.payload?.stepMs ?? 250);
      await ctx.updateProgressSteps(i, steps, { message: `row ${i} of ${steps}` });
    }
    return { rows: steps };
  }
}

/** Fails every run while `dashboardSwitches.flakyFails` (two tries), then completes. */
@ManagedJob({ name: 'dash-flaky', tries: 2, backoff: 0 })
export class DashFlakyJob {
  handle(ctx: JobContext<{ customer?: string }>) {
    if (!dashboardSwitches.flakyFails) return { ok: true };
    ctx.log.warn(`run ${ctx.attempt}: the CRM answered 503`);
    throw new Error(`CRM unavailable (run ${ctx.attempt})`);
  }
}

export const dashboardJobs = [DashEchoJob, DashProgressJob, DashFlakyJob];
