import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import { needPositionals, REASON_OPTION, type CliCommand } from '../cli-command.js';
import { cliAudit } from '../cli-output.js';

export const clearCommand: CliCommand = {
  name: 'clear',
  usage: 'clear <queue> [--reason text]',
  summary: 'Delete the pending jobs of a queue (running ones are left alone).',
  options: { ...REASON_OPTION },
  check: (_, p) => needPositionals(p, 1, 'the queue', 1),
  async run({ app, values, positionals, out }) {
    const { count } = await app.get(ManagedJobsOperatorService).clearQueue(positionals[0], cliAudit(values.reason));
    out.line(`Deleted ${count} pending job(s) of queue ${positionals[0]}.`);
    return 0;
  },
};

export const pauseCommand: CliCommand = {
  name: 'pause',
  usage: 'pause <queue> [--reason text]',
  summary: 'No worker of any process claims from the queue until it is resumed (dispatches are still accepted).',
  options: { ...REASON_OPTION },
  check: (_, p) => needPositionals(p, 1, 'the queue', 1),
  async run({ app, values, positionals, out }) {
    await app.get(ManagedJobsOperatorService).pauseQueue(positionals[0], cliAudit(values.reason));
    out.line(`Queue ${positionals[0]} is paused.`);
    return 0;
  },
};

export const resumeCommand: CliCommand = {
  name: 'resume',
  usage: 'resume <queue> [--reason text]',
  summary: 'Let workers claim from a paused queue again.',
  options: { ...REASON_OPTION },
  check: (_, p) => needPositionals(p, 1, 'the queue', 1),
  async run({ app, values, positionals, out }) {
    await app.get(ManagedJobsOperatorService).resumeQueue(positionals[0], cliAudit(values.reason));
    out.line(`Queue ${positionals[0]} is resumed.`);
    return 0;
  },
};
