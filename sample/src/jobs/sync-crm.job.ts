import { setTimeout as sleep } from 'node:timers/promises';
import { ManagedJob, type JobContext, type ManagedJobHandler } from '../../../lib/index.js';

/**
 * Calls a flaky "CRM": the first run fails half-way, the retry (2 s later) resumes from its
 * checkpoint and its finished step, and succeeds.
 */
@ManagedJob({ name: 'sync-crm', http: true, tries: 3, backoff: [2, 10] })
export class SyncCrmJob implements ManagedJobHandler<Record<string, never>, { synced: number; account: string }> {
  async handle(ctx: JobContext<Record<string, never>>) {
    const account = await ctx.step('create-account', async () => {
      await sleep(300);
      return `acct_${ctx.jobId.slice(-6)}`;
    });
    const contacts = 40;
    let done = ctx.getState<{ done: number }>()?.done ?? 0;
    for (; done < contacts; done++) {
      ctx.throwIfStopped();
      if (ctx.attempt === 1 && done === 20) throw new Error('CRM answered 503 Service Unavailable');
      await sleep(50);
      await ctx.saveState({ done: done + 1 });
      await ctx.updateProgressSteps(done + 1, contacts, { message: `Synced ${done + 1} of ${contacts} contacts` });
    }
    return { synced: contacts, account };
  }
}
