/**
 * Queue-control jobs for real worker processes (test/reliability/worker-app.mjs registers them
 * through worker-jobs.mjs), in plain JS. The same names and options as `processJobs` in
 * ./queue-jobs.ts, which the spec's dispatcher app registers (keys are computed at dispatch).
 *
 * - `q-per-key`: concurrency 2 per `payload.key`; reports `{ type: 'run', key, jobId, start, end }`.
 * - `q-rate`: 5 starts per second per `payload.key`.
 * - `q-unique`: unique per `payload.key`.
 * - With `NMJ_RACE_KEY` set, the process dispatches `q-unique` with that key `NMJ_RACE_COUNT`
 *   times at once at the moment `NMJ_RACE_AT` (epoch ms) and reports `{ type: 'race', jobIds }`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';

export function defineQueueJobs(lib, report) {
  const { ManagedJob, JobRunnerService } = lib;

  async function run(ctx) {
    const start = Date.now();
    if (ctx.payload.ms) await sleep(ctx.payload.ms);
    report({ type: 'run', name: ctx.job.type, key: ctx.payload.key, jobId: ctx.jobId, start, end: Date.now() });
    return { key: ctx.payload.key };
  }

  class PerKeyJob {
    handle(ctx) {
      return run(ctx);
    }
  }
  ManagedJob({ name: 'q-per-key', concurrency: { limit: 2, key: (p) => p.key } })(PerKeyJob);
  Injectable()(PerKeyJob);

  class RateJob {
    handle(ctx) {
      return run(ctx);
    }
  }
  ManagedJob({ name: 'q-rate', rateLimit: { max: 5, perSeconds: 1, key: (p) => p.key } })(RateJob);
  Injectable()(RateJob);

  class UniqueJob {
    handle(ctx) {
      return run(ctx);
    }
  }
  ManagedJob({ name: 'q-unique', unique: { key: (p) => p.key } })(UniqueJob);
  Injectable()(UniqueJob);

  class UniqueRace {
    constructor(runner) {
      this.runner = runner;
    }
    onApplicationBootstrap() {
      const key = process.env.NMJ_RACE_KEY;
      if (!key) return;
      const count = Number(process.env.NMJ_RACE_COUNT ?? 10);
      void (async () => {
        await sleep(Math.max(0, Number(process.env.NMJ_RACE_AT) - Date.now()));
        try {
          const jobs = await Promise.all(Array.from({ length: count }, () => this.runner.dispatch('q-unique', { key, ms: 200 }, { delayMs: 60_000 })));
          report({ type: 'race', jobIds: jobs.map((j) => j.jobId) });
        } catch (error) {
          report({ type: 'race-error', message: String(error?.message ?? error) });
        }
      })();
    }
  }
  Inject(JobRunnerService)(UniqueRace, undefined, 0);
  Injectable()(UniqueRace);

  return [PerKeyJob, RateJob, UniqueJob, UniqueRace];
}
