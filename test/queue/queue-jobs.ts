/** Test jobs for unique jobs, concurrency keys and rate limits, and a probe of their runs. */
import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobContext, ManagedJob, ManagedJobHandler } from '../../lib/index.js';

export interface RunRecord {
  type: string;
  key: string;
  jobId: string;
  start: number;
  end: number | null;
}

/** Start and end of every run, for exact overlap and window checks. */
@Injectable()
export class QueueProbe {
  runs: RunRecord[] = [];
  /** Jobs held running until released (`release(jobId)`). */
  private gates = new Map<string, () => void>();
  begin(type: string, key: string, jobId: string): RunRecord {
    const r: RunRecord = { type, key, jobId, start: Date.now(), end: null };
    this.runs.push(r);
    return r;
  }
  hold(jobId: string): Promise<void> {
    return new Promise((resolve) => this.gates.set(jobId, resolve));
  }
  release(jobId: string): void {
    this.gates.get(jobId)?.();
    this.gates.delete(jobId);
  }
  releaseAll(): void {
    for (const id of [...this.gates.keys()]) this.release(id);
  }
  holding(jobId: string): boolean {
    return this.gates.has(jobId);
  }
  of(type: string): RunRecord[] {
    return this.runs.filter((r) => r.type === type);
  }
}

export interface KeyedPayload {
  key: string;
  ms?: number;
  hold?: boolean;
}

async function work(probe: QueueProbe, type: string, ctx: JobContext<KeyedPayload>): Promise<{ key: string }> {
  const r = probe.begin(type, ctx.payload.key, ctx.jobId);
  if (ctx.payload.hold) await probe.hold(ctx.jobId);
  else if (ctx.payload.ms) await sleep(ctx.payload.ms);
  r.end = Date.now();
  return { key: ctx.payload.key };
}

@ManagedJob({ name: 'unique-sync', unique: { key: (p: KeyedPayload) => p.key } })
export class UniqueSyncJob implements ManagedJobHandler<KeyedPayload> {
  constructor(private readonly probe: QueueProbe) {}
  handle(ctx: JobContext<KeyedPayload>) {
    return work(this.probe, 'unique-sync', ctx);
  }
}

@ManagedJob({ name: 'unique-until-started', unique: { key: (p: KeyedPayload) => p.key, until: 'started' } })
export class UniqueUntilStartedJob implements ManagedJobHandler<KeyedPayload> {
  constructor(private readonly probe: QueueProbe) {}
  handle(ctx: JobContext<KeyedPayload>) {
    return work(this.probe, 'unique-until-started', ctx);
  }
}

/** `unique: true`: one live job of the type. */
@ManagedJob({ name: 'unique-singleton', unique: true, tries: 1 })
export class UniqueSingletonJob implements ManagedJobHandler<KeyedPayload> {
  constructor(private readonly probe: QueueProbe) {}
  async handle(ctx: JobContext<KeyedPayload>) {
    if (ctx.payload.key === 'fail') throw new Error('failed on purpose');
    return work(this.probe, 'unique-singleton', ctx);
  }
}

@ManagedJob({ name: 'per-key-2', concurrency: { limit: 2, key: (p: KeyedPayload) => p.key } })
export class PerKeyTwoJob implements ManagedJobHandler<KeyedPayload> {
  constructor(private readonly probe: QueueProbe) {}
  handle(ctx: JobContext<KeyedPayload>) {
    return work(this.probe, 'per-key-2', ctx);
  }
}

/** `WithoutOverlapping` per tenant: the key from the owner. */
@ManagedJob({ name: 'per-tenant', concurrency: { key: (_p: KeyedPayload, job) => job.ownerTenantId ?? '' } })
export class PerTenantJob implements ManagedJobHandler<KeyedPayload> {
  constructor(private readonly probe: QueueProbe) {}
  handle(ctx: JobContext<KeyedPayload>) {
    return work(this.probe, 'per-tenant', ctx);
  }
}

@ManagedJob({ name: 'rate-3-per-s', rateLimit: { max: 3, perSeconds: 1, key: (p: KeyedPayload) => p.key } })
export class RateJob implements ManagedJobHandler<KeyedPayload> {
  constructor(private readonly probe: QueueProbe) {}
  handle(ctx: JobContext<KeyedPayload>) {
    return work(this.probe, 'rate-3-per-s', ctx);
  }
}

/** Both: at most 1 running per key, and at most 2 starts per 0.5 s for the whole type. */
@ManagedJob({ name: 'rate-and-limit', concurrency: { limit: 1, key: (p: KeyedPayload) => p.key }, rateLimit: { max: 2, perSeconds: 0.5 } })
export class RateAndLimitJob implements ManagedJobHandler<KeyedPayload> {
  constructor(private readonly probe: QueueProbe) {}
  handle(ctx: JobContext<KeyedPayload>) {
    return work(this.probe, 'rate-and-limit', ctx);
  }
}

@ManagedJob({ name: 'plain-queue-job' })
export class PlainQueueJob implements ManagedJobHandler<KeyedPayload> {
  constructor(private readonly probe: QueueProbe) {}
  handle(ctx: JobContext<KeyedPayload>) {
    return work(this.probe, 'plain-queue-job', ctx);
  }
}

export const queueJobs = [QueueProbe, UniqueSyncJob, UniqueUntilStartedJob, UniqueSingletonJob, PerKeyTwoJob, PerTenantJob, RateJob, RateAndLimitJob, PlainQueueJob];

/** The most runs of one key that overlapped in time (exact: from recorded start and end). */
export function maxOverlap(runs: RunRecord[], now = Date.now()): Map<string, number> {
  const byKey = new Map<string, number>();
  for (const r of runs) {
    const at = r.start;
    const overlapping = runs.filter((o) => o.key === r.key && o.start <= at && (o.end ?? now) > at).length;
    byKey.set(r.key, Math.max(byKey.get(r.key) ?? 0, overlapping));
  }
  return byKey;
}

/** The most starts of one key inside any window of `windowMs` (every window that begins at a start). */
export function maxStartsInWindow(starts: Array<{ key: string; start: number }>, windowMs: number): number {
  let most = 0;
  for (const s of starts) {
    const n = starts.filter((o) => o.key === s.key && o.start >= s.start && o.start < s.start + windowMs).length;
    most = Math.max(most, n);
  }
  return most;
}

/** The dispatcher's side of test/queue/queue-worker-jobs.mjs: same names and options (keys are computed at dispatch); never run here. */
@ManagedJob({ name: 'q-per-key', concurrency: { limit: 2, key: (p: KeyedPayload) => p.key } })
export class ProcPerKeyJob {
  async handle() {}
}
@ManagedJob({ name: 'q-rate', rateLimit: { max: 5, perSeconds: 1, key: (p: KeyedPayload) => p.key } })
export class ProcRateJob {
  async handle() {}
}
@ManagedJob({ name: 'q-unique', unique: { key: (p: KeyedPayload) => p.key } })
export class ProcUniqueJob {
  async handle() {}
}
export const processJobs = [ProcPerKeyJob, ProcRateJob, ProcUniqueJob];
