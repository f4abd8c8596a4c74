/**
 * Workflow jobs for real worker processes (test/reliability/worker-app.mjs registers them through
 * worker-jobs.mjs), in plain JS, with the names of ./workflow-jobs.ts that the spec's dispatcher
 * app registers:
 *
 * - `wf-step`: waits `payload.ms`, throws when `payload.fail`; reports `{ type: 'wf-run', name, jobId }`.
 * - `wf-callback`: reports `{ type: 'wf-callback', kind, batchId, jobId }`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';

export function defineWorkflowJobs(lib, report) {
  const { ManagedJob } = lib;

  class StepJob {
    async handle(ctx) {
      if (ctx.payload.ms) await sleep(ctx.payload.ms);
      report({ type: 'wf-run', name: ctx.payload.name, jobId: ctx.jobId, batchId: ctx.batch?.batchId ?? null });
      if (ctx.payload.fail) throw new Error(`${ctx.payload.name} failed`);
      return ctx.payload.name;
    }
  }
  ManagedJob({ name: 'wf-step' })(StepJob);
  Injectable()(StepJob);

  class CallbackJob {
    handle(ctx) {
      report({ type: 'wf-callback', kind: ctx.payload.kind, batchId: ctx.batch?.batchId ?? null, jobId: ctx.jobId });
    }
  }
  ManagedJob({ name: 'wf-callback' })(CallbackJob);
  Injectable()(CallbackJob);

  return [StepJob, CallbackJob];
}
