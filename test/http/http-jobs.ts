import { Injectable } from '@nestjs/common';
import { ManagedJob, type JobContext, type ManagedJobHandler } from '../../lib/index.js';

/** What the HTTP test jobs did. */
@Injectable()
export class HttpProbe {
  stepRuns = new Map<string, number>();
  statesSeen: Array<{ jobId: string; attempt: number; state: unknown }> = [];
  outcomes = new Map<string, Array<{ op: string; ok: boolean; error?: string }>>();
}

export interface FileSpec {
  name: string;
  content: string;
  mimeType?: string;
  /** Milliseconds from now; negative = already expired. */
  expiresInMs?: number;
}

/** Writes the files it is given with `ctx.putFile`. */
@ManagedJob({ name: 'write-files' })
export class WriteFilesJob implements ManagedJobHandler<{ files: FileSpec[] }> {
  async handle(ctx: JobContext<{ files: FileSpec[] }>) {
    const ids: string[] = [];
    for (const f of ctx.payload.files) {
      const expiresAt = f.expiresInMs === undefined ? undefined : new Date(Date.now() + f.expiresInMs);
      ids.push((await ctx.putFile(f.name, f.content, { mimeType: f.mimeType ?? 'text/plain', expiresAt })).jobFileId);
    }
    return { ids };
  }
}

/** Fails on its first run after saving a checkpoint and finishing a step; resumes on retry. */
@ManagedJob({ name: 'resumable', tries: 1, http: true })
export class ResumableJob implements ManagedJobHandler {
  constructor(private readonly probe: HttpProbe) {}
  async handle(ctx: JobContext) {
    const resumed = ctx.getState() !== null; // retry() restarts ctx.attempt at 1: the checkpoint tells the runs apart
    this.probe.statesSeen.push({ jobId: ctx.jobId, attempt: ctx.attempt, state: ctx.getState() });
    await ctx.step('fetch', () => {
      this.probe.stepRuns.set(ctx.jobId, (this.probe.stepRuns.get(ctx.jobId) ?? 0) + 1);
      return 7;
    });
    await ctx.saveState({ cursor: 3 });
    if (!resumed) throw new Error('first run fails');
    return 'resumed';
  }
}

/** Waits until stopped (at most `ms`). */
@ManagedJob({ name: 'wait-for-stop', http: true })
export class WaitForStopJob implements ManagedJobHandler<{ ms?: number }> {
  async handle(ctx: JobContext<{ ms?: number }>) {
    const until = Date.now() + (ctx.payload?.ms ?? 30_000);
    while (Date.now() < until && !(await ctx.isStopped())) await new Promise((r) => setTimeout(r, 20));
    return null;
  }
}

/** Tries each hostile file operation in its payload and records how it went. */
@ManagedJob({ name: 'hostile-files' })
export class HostileFilesJob implements ManagedJobHandler<{ ops: Array<{ op: 'put' | 'add'; name?: string; path?: string }> }> {
  constructor(private readonly probe: HttpProbe) {}
  async handle(ctx: JobContext<{ ops: Array<{ op: 'put' | 'add'; name?: string; path?: string }> }>) {
    const results: Array<{ op: string; ok: boolean; error?: string }> = [];
    // PostgreSQL's jsonb cannot hold NUL, so the payload spells it `<NUL>`.
    const nul = (v?: string) => v?.replaceAll('<NUL>', '\u0000');
    for (const raw of ctx.payload.ops) {
      const op = { ...raw, name: nul(raw.name), path: nul(raw.path) };
      try {
        if (op.op === 'put') await ctx.putFile(op.name!, 'data', { mimeType: 'text/plain' });
        else await ctx.addFile({ path: op.path!, filename: op.name ?? 'f.txt', mimeType: 'text/plain', sizeBytes: 4 });
        results.push({ op: JSON.stringify(raw), ok: true });
      } catch (error) {
        results.push({ op: JSON.stringify(raw), ok: false, error: (error as Error).name });
      }
    }
    this.probe.outcomes.set(ctx.jobId, results);
    return null;
  }
}

export const httpJobs = [HttpProbe, WriteFilesJob, ResumableJob, WaitForStopJob, HostileFilesJob];
