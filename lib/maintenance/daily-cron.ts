import type { CronJob } from 'cron';

type CronJobClass = typeof CronJob;

/** `'HH:mm'` → a six-field cron expression firing once a day at that local time. */
export function dailyCronExpression(at: string): string {
  const [hours, minutes] = at.split(':').map(Number);
  return `0 ${minutes} ${hours} * * *`;
}

/**
 * A started cron job that calls `onTick` every day at `at` (local time). `waitForCompletion`
 * keeps a slow run from overlapping the next tick in this process.
 */
export function createDailyCron(CronJobClass: CronJobClass, at: string, onTick: () => Promise<unknown>): CronJob {
  return CronJobClass.from({
    cronTime: dailyCronExpression(at),
    onTick: async () => {
      await onTick();
    },
    start: true,
    waitForCompletion: true,
  });
}
