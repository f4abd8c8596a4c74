import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BatchItem,
  type JobContext,
  ManagedBatchEvents,
  type ManagedBatchEvent,
  ManagedJob,
  type ManagedJobHandler,
} from '../../lib/index.js';

/** What the workflow jobs did, for assertions. One instance per test app. */
@Injectable()
export class WorkflowProbe {
  runs: Array<{ name: string; jobId: string; batchId: string | null; deps: Record<string, unknown> }> = [];
  callbacks: Array<{ kind: string; batchId: string | null; jobId: string }> = [];
  batchEvents: Array<{ name: string; batchId: string; status: string; progress: number; completed: number; failed: number; stopped: number; running: number; pending: number }> = [];

  @OnEvent(ManagedBatchEvents.Progress)
  @OnEvent(ManagedBatchEvents.Finished)
  onBatch(event: ManagedBatchEvent): void {
    const b = event.batch;
    this.batchEvents.push({ name: event.name, batchId: b.batchId, status: b.status, progress: b.progress, completed: b.completed, failed: b.failed, stopped: b.stopped, running: b.running, pending: b.pending });
  }

  order(): string[] {
    return this.runs.map((r) => r.name);
  }
}

export class StepPayload {
  @IsString() name!: string;
  /** Throw instead of completing. */
  @IsOptional() fail?: boolean;
  @IsOptional() @IsInt() @Min(0) ms?: number;
  @IsOptional() value?: unknown;
  /** Members to add to the batch from inside this run. */
  @IsOptional() add?: BatchItem[];
  /** Wait this long before adding them. */
  @IsOptional() @IsInt() @Min(0) addAfterMs?: number;
}

/** A member: records its run, waits `ms`, fails when told, returns its `value` (default: its name). */
@ManagedJob({ name: 'wf-step', payload: StepPayload })
export class StepJob implements ManagedJobHandler<StepPayload> {
  constructor(private readonly probe: WorkflowProbe) {}
  async handle(ctx: JobContext<StepPayload>): Promise<unknown> {
    const deps = await ctx.dependencyResults();
    this.probe.runs.push({ name: ctx.payload.name, jobId: ctx.jobId, batchId: ctx.batch?.batchId ?? null, deps });
    if (ctx.payload.addAfterMs) await sleep(ctx.payload.addAfterMs);
    if (ctx.payload.add) await ctx.batch!.add(ctx.payload.add);
    if (ctx.payload.ms) await sleep(ctx.payload.ms, undefined, { signal: ctx.signal }).catch(() => undefined);
    if (ctx.payload.fail) throw new Error(`${ctx.payload.name} failed`);
    return ctx.payload.value ?? ctx.payload.name;
  }
}

/** A `then` / `catch` / `finally` job. */
@ManagedJob({ name: 'wf-callback' })
export class CallbackJob implements ManagedJobHandler<{ kind: string }> {
  constructor(private readonly probe: WorkflowProbe) {}
  async handle(ctx: JobContext<{ kind: string }>): Promise<void> {
    this.probe.callbacks.push({ kind: ctx.payload.kind, batchId: ctx.batch?.batchId ?? null, jobId: ctx.jobId });
  }
}

export const workflowJobs = [WorkflowProbe, StepJob, CallbackJob];
