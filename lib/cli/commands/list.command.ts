import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import { toOperatorJob } from '../../operator/operator-responses.js';
import { positiveInteger, type CliCommand } from '../cli-command.js';

export const listCommand: CliCommand = {
  name: 'list',
  usage: 'list [--status s] [--queue q] [--type t] [--limit n] [--json]',
  summary: 'Jobs of every owner, newest first (status may be a comma-separated list).',
  read: true,
  options: { status: { type: 'string' }, queue: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' } },
  check: (v) => void positiveInteger('limit', v.limit),
  async run({ app, values, out }) {
    const page = await app.get(ManagedJobsOperatorService).listJobs({
      status: values.status as string | undefined,
      queue: values.queue as string | undefined,
      type: values.type as string | undefined,
      limit: positiveInteger('limit', values.limit) ?? 20,
    });
    if (out.json) return out.data({ data: page.data.map(toOperatorJob), meta: page.meta }), 0;
    out.table(
      ['JOB ID', 'TYPE', 'QUEUE', 'STATUS', 'PROGRESS', 'TRIES', 'CREATED', 'REASON'],
      page.data.map((j) => [j.jobId, j.type, j.queue, j.status, `${j.progressPercentage}%`, `${j.attempts}/${j.maxAttempts}`, j.createdAt, j.failedReason]),
      'No jobs.',
    );
    if (page.meta.total > page.data.length) out.line(`\n${page.data.length} of ${page.meta.total} shown (--limit).`);
    return 0;
  },
};
