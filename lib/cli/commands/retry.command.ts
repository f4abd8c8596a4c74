import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import { CliUsageError, REASON_OPTION, type CliCommand } from '../cli-command.js';
import { cliAudit } from '../cli-output.js';

export const retryCommand: CliCommand = {
  name: 'retry',
  usage: 'retry <jobId…> | --failed [--type t] [--queue q] [--reason text]',
  summary: 'Put failed (or stopped) jobs back in the queue with a fresh set of tries.',
  options: { failed: { type: 'boolean' }, type: { type: 'string' }, queue: { type: 'string' }, ...REASON_OPTION },
  check(v, p) {
    if (!p.length && !v.failed) throw new CliUsageError('Name the jobs to retry, or pass --failed.');
    if (p.length && (v.failed || v.type || v.queue)) throw new CliUsageError('Give job ids or --failed with filters, not both.');
  },
  async run({ app, values, positionals, out }) {
    const operator = app.get(ManagedJobsOperatorService);
    const filter = positionals.length
      ? { jobIds: positionals }
      : { status: 'failed' as const, type: values.type as string | undefined, queue: values.queue as string | undefined };
    const { count } = await operator.retry(filter, cliAudit(values.reason));
    out.line(`Retried ${count} job(s).`);
    if (positionals.length && count < positionals.length) {
      out.error(`${positionals.length - count} job(s) were not retried: not found, or not failed or stopped.`);
      return 1;
    }
    return 0;
  },
};
