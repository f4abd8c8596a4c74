import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedJob, type JobContext, type ManagedJobHandler } from '../../../lib/index.js';

/** A long job (about two minutes) that checks for a stop request between batches. */
@ManagedJob({ name: 'reindex-catalog', http: true })
export class ReindexCatalogJob implements ManagedJobHandler<Record<string, never>, { batches: number }> {
  async handle(ctx: JobContext<Record<string, never>>) {
    const batches = 600;
    for (let i = 0; i < batches; i++) {
      if (await ctx.isStopped()) return { batches: i };
      await sleep(200, undefined, { signal: ctx.signal }).catch(() => undefined);
      await ctx.updateProgressSteps(i + 1, batches, { message: `Batch ${i + 1} of ${batches}` });
    }
    return { batches };
  }
}
