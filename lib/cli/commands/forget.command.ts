import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import { needPositionals, REASON_OPTION, type CliCommand } from '../cli-command.js';
import { cliAudit } from '../cli-output.js';

export const forgetCommand: CliCommand = {
  name: 'forget',
  usage: 'forget <jobId…> [--reason text]',
  summary: 'Delete finished jobs (completed, failed, stopped) with their files, steps, attempts and logs.',
  options: { ...REASON_OPTION },
  check: (_, p) => needPositionals(p, 1, 'the job ids'),
  async run({ app, values, positionals, out }) {
    const { count } = await app.get(ManagedJobsOperatorService).delete({ jobIds: positionals }, cliAudit(values.reason));
    out.line(`Deleted ${count} job(s).`);
    if (count < positionals.length) {
      out.error(`${positionals.length - count} job(s) were not deleted: not found, or not finished (pending, waiting and running jobs are never deleted).`);
      return 1;
    }
    return 0;
  },
};
