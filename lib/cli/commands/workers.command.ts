import { ManagedJobsOperatorService } from '../../operator/managed-jobs-operator.service.js';
import type { CliCommand } from '../cli-command.js';

export const workersCommand: CliCommand = {
  name: 'workers',
  usage: 'workers [--json]',
  summary: 'Live worker processes: host, pid, queues, concurrency, running jobs, last heartbeat.',
  read: true,
  async run({ app, out }) {
    const workers = await app.get(ManagedJobsOperatorService).workers();
    if (out.json) return out.data(workers), 0;
    out.table(
      ['WORKER', 'HOST', 'PID', 'QUEUES', 'CONCURRENCY', 'RUNNING', 'STARTED', 'LAST SEEN'],
      workers.map((w) => [w.workerId, w.hostname, w.pid, w.queues.join(','), w.concurrency, w.running, w.startedAt, w.lastSeenAt]),
      'No live workers.',
    );
    return 0;
  },
};
