import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import type { CliCommand } from '../cli-command.js';
import { duration } from '../cli-output.js';

export const statsCommand: CliCommand = {
  name: 'stats',
  usage: 'stats [--json]',
  summary: 'Jobs per queue and status, paused queues, live workers.',
  read: true,
  async run({ app, out }) {
    const stats = await app.get(ManagedJobsOperatorService).stats();
    if (out.json) return out.data(stats), 0;
    out.table(
      ['QUEUE', 'STATE', 'PENDING', 'WAITING', 'RUNNING', 'COMPLETED', 'FAILED', 'STOPPED', 'OLDEST PENDING'],
      stats.queues.map((q) => [q.queue, q.paused ? 'paused' : 'active', q.pending, q.waiting, q.running, q.completed, q.failed, q.stopped, duration(q.oldestPendingAgeMs)]),
    );
    out.line(`\n${stats.workers} live worker(s).`);
    return 0;
  },
};
