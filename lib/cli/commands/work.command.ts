/**
 * `work`: runs a worker in this process, even where the app's options turn it off, until one of
 * Laravel's `queue:work` limits is reached or SIGTERM/SIGINT arrives; then stops as the in-process
 * worker does at shutdown (stop claiming, let runs finish for `shutdownTimeoutMs`, hand the rest
 * back without using a try). Runs are counted by their end events in this process (completed,
 * failed, stopped, retrying).
 */
import { JobEventsPublisher } from '../../events/job-events.publisher.js';
import { JobRunnerService } from '../../services/job-runner.service.js';
import { CliUsageError, positiveInteger, type CliCommand } from '../cli-command.js';

const RUN_ENDS = new Set(['managed-job.completed', 'managed-job.failed', 'managed-job.stopped', 'managed-job.retrying']);

export const workCommand: CliCommand = {
  name: 'work',
  usage: 'work [--queues a,b] [--concurrency n] [--once] [--stop-when-empty] [--max-jobs n] [--max-time s]',
  summary: 'Run a worker here until SIGTERM/SIGINT or a limit: --once (one job), --stop-when-empty, --max-jobs, --max-time (seconds).',
  options: {
    queues: { type: 'string' },
    concurrency: { type: 'string' },
    once: { type: 'boolean' },
    'stop-when-empty': { type: 'boolean' },
    'max-jobs': { type: 'string' },
    'max-time': { type: 'string' },
  },
  check(v) {
    const concurrency = positiveInteger('concurrency', v.concurrency);
    if (concurrency === 0) throw new CliUsageError('--concurrency must be at least 1.');
    if (v.queues !== undefined && !String(v.queues).split(',').filter(Boolean).length) throw new CliUsageError('--queues names no queue.');
    positiveInteger('max-jobs', v['max-jobs']);
    positiveInteger('max-time', v['max-time']);
  },
  overrides(v) {
    const queues = v.queues === undefined ? undefined : String(v.queues).split(',').map((q) => q.trim()).filter(Boolean);
    const concurrency = v.once ? 1 : positiveInteger('concurrency', v.concurrency);
    return { worker: { enabled: true, ...(queues ? { queues } : {}), ...(concurrency ? { concurrency } : {}) } };
  },
  async run({ app, values, out }) {
    const maxJobs = values.once ? 1 : positiveInteger('max-jobs', values['max-jobs']);
    const maxTime = positiveInteger('max-time', values['max-time']);
    let processed = 0;
    let stop!: (why: string) => void;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const onSignal = (signal: NodeJS.Signals) => stop(`received ${signal}`);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const unsubscribe = app.get(JobEventsPublisher).subscribe((event) => {
      if (!RUN_ENDS.has(event.name)) return;
      processed++;
      if (maxJobs !== undefined && processed >= maxJobs) stop(`processed ${processed} job(s) (--${values.once ? 'once' : 'max-jobs'})`);
    });
    const timer = maxTime !== undefined ? setTimeout(() => stop(`ran ${maxTime}s (--max-time)`), maxTime * 1000) : undefined;
    if (values['stop-when-empty']) {
      app
        .get(JobRunnerService)
        .drain()
        .then(() => stop('the queue is empty (--stop-when-empty)'))
        .catch((error: Error) => stop(`checking the queue failed: ${error.message}`));
    }
    if (maxJobs === 0 || maxTime === 0) stop('a limit of 0');
    const why = await stopped;
    clearTimeout(timer);
    unsubscribe();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    out.error(`Worker stopping: ${why}.`);
    return 0;
  },
};
