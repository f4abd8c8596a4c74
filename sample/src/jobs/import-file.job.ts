import { IsString, Length } from 'class-validator';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedJob, type JobContext, type ManagedJobHandler } from '../../../lib/index.js';

export class ImportFilePayload {
  @IsString() @Length(1, 200) filename!: string;
}

/**
 * One file of an import batch (`POST /demo/imports`): reads, checks and stores it in about
 * 100–300 ms, with a little progress. Not `http: true`: it only runs as a batch member.
 */
@ManagedJob({ name: 'import-file', payload: ImportFilePayload, timeout: 60 })
export class ImportFileJob implements ManagedJobHandler<ImportFilePayload, { filename: string; rows: number }> {
  async handle(ctx: JobContext<ImportFilePayload>) {
    const steps = ['Reading', 'Checking', 'Storing'];
    for (const [i, step] of steps.entries()) {
      ctx.throwIfStopped();
      await ctx.updateProgressSteps(i, steps.length, { message: `${step} ${ctx.payload.filename}` });
      await sleep(35 + Math.floor(Math.random() * 65)); // stands in for real work
    }
    return { filename: ctx.payload.filename, rows: 10 + (ctx.payload.filename.length * 7) % 90 };
  }
}
