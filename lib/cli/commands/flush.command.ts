import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import { positiveInteger, REASON_OPTION, type CliCommand } from '../cli-command.js';
import { cliAudit } from '../cli-output.js';

const DAY_MS = 86_400_000;

export const flushCommand: CliCommand = {
  name: 'flush',
  usage: 'flush [--older-than-days n] [--reason text]',
  summary: 'Delete failed jobs (all of them, or those that failed more than n days ago).',
  options: { 'older-than-days': { type: 'string' }, ...REASON_OPTION },
  check: (v) => void positiveInteger('older-than-days', v['older-than-days']),
  async run({ app, values, out }) {
    const days = positiveInteger('older-than-days', values['older-than-days']);
    const finishedBefore = days === undefined ? undefined : new Date(Date.now() - days * DAY_MS);
    const { count } = await app.get(ManagedJobsOperatorService).delete({ status: 'failed', finishedBefore }, cliAudit(values.reason));
    out.line(`Deleted ${count} failed job(s).`);
    return 0;
  },
};
