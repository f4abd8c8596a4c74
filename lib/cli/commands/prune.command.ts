import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import { CliUsageError, positiveInteger, REASON_OPTION, type CliCommand } from '../cli-command.js';
import { cliAudit } from '../cli-output.js';

const DAY_MS = 86_400_000;

export const pruneCommand: CliCommand = {
  name: 'prune',
  usage: 'prune --days n [--reason text]',
  summary: 'Delete finished jobs (completed, failed, stopped) that finished more than n days ago.',
  options: { days: { type: 'string' }, ...REASON_OPTION },
  check(v) {
    if (v.days === undefined) throw new CliUsageError('--days is required.');
    positiveInteger('days', v.days);
  },
  async run({ app, values, out }) {
    const days = positiveInteger('days', values.days)!;
    const { count } = await app.get(ManagedJobsOperatorService).delete({ finishedBefore: new Date(Date.now() - days * DAY_MS) }, cliAudit(values.reason));
    out.line(`Deleted ${count} finished job(s).`);
    return 0;
  },
};
