import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import { ManagedSchedulesService } from '../../schedules/managed-schedules.service.js';
import { needPositionals, REASON_OPTION, type CliCommand } from '../cli-command.js';
import { cliAudit } from '../cli-output.js';

export const schedulesCommand: CliCommand = {
  name: 'schedules',
  usage: 'schedules [--json]',
  summary: 'Durable schedules: cron, job, next and last run.',
  read: true,
  async run({ app, out }) {
    const schedules = await app.get(ManagedSchedulesService).list();
    if (out.json) return out.data(schedules), 0;
    out.table(
      ['NAME', 'CRON', 'TIMEZONE', 'JOB', 'ENABLED', 'NEXT RUN', 'LAST RUN', 'LAST JOB'],
      schedules.map((s) => [s.name, s.cron, s.timezone, s.jobType, s.enabled ? 'yes' : 'no', s.nextRunAt, s.lastRunAt, s.lastJobId]),
      'No schedules.',
    );
    return 0;
  },
};

export const scheduleTriggerCommand: CliCommand = {
  name: 'schedule:trigger',
  usage: 'schedule:trigger <name> [--reason text]',
  summary: "Dispatch a schedule's job now, once.",
  options: { ...REASON_OPTION },
  check: (_, p) => needPositionals(p, 1, 'the schedule name', 1),
  async run({ app, values, positionals, out }) {
    const job = await app.get(ManagedSchedulesService).trigger(positionals[0]);
    await app.get(ManagedJobsOperatorService).record('schedule.trigger', positionals[0], 1, cliAudit(values.reason));
    out.line(`Dispatched job ${job.jobId} (${job.type}).`);
    return 0;
  },
};
