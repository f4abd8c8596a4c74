import { IsDateString, IsInt, IsOptional, Max, Min } from 'class-validator';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedJob, type JobContext, type ManagedJobHandler } from '../../../lib/index.js';

export class ReportPayload {
  @IsDateString() from!: string;
  @IsDateString() to!: string;
  @IsOptional() @IsInt() @Min(10) @Max(5000) rows?: number;
}

/** Builds a CSV row by row, reporting progress, and leaves it as a downloadable file. */
@ManagedJob({ name: 'generate-report', payload: ReportPayload, http: true, timeout: 300 })
export class GenerateReportJob implements ManagedJobHandler<ReportPayload, { rows: number }> {
  async handle(ctx: JobContext<ReportPayload>) {
    const total = ctx.payload.rows ?? 200;
    const lines = ['day,orders,revenue'];
    const start = new Date(ctx.payload.from).getTime();
    for (let i = 0; i < total; i++) {
      if (await ctx.isStopped()) return { rows: i };
      const day = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
      lines.push(`${day},${(i * 37) % 101},${((i * 7919) % 10_000) / 100}`);
      await ctx.updateProgress(Math.round(((i + 1) / total) * 100), `Row ${i + 1} of ${total}`);
      await sleep(20); // stands in for real work
    }
    await ctx.putFile(`report ${ctx.payload.from} to ${ctx.payload.to}.csv`, lines.join('\n') + '\n', { mimeType: 'text/csv' });
    return { rows: total };
  }
}
