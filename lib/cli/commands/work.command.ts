/**
 * `work`: runs a worker in this process, even where the app's options turn it off, until one of
 * Laravel's `queue:work` limits is reached or SIGTERM/SIGINT arrives; then stops as the in-process
 * worker does at shutdown (stop claiming, let runs finish for `shutdownTimeoutMs`, hand the rest
 * back without using a try). `--once` / `--max-jobs n` cap the worker's claims at 1 / n
 * (work-monitor.ts), so no further job is claimed, and stop when the last of them ended.
 */
import { JobRunnerService } from '../../services/job-runner.service.js';
import { CliUsageError, positiveInteger, type CliCommand } from '../cli-command.js';
import { CLI_RUN_LIMIT, CliWorkMonitor } from '../work-monitor.js';

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
  providers: (v) => [{ provide: CLI_RUN_LIMIT, useValue: v.once ? 1 : (positiveInteger('max-jobs', v['max-jobs']) ?? null) }, CliWorkMonitor],
  async run({ app, values, out }) {
    const maxTime = positiveInteger('max-time', values['max-time']);
    let stop!: (why: string) => void;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const monitor = app.get(CliWorkMonitor);
    void monitor.signalled.then((signal) => stop(`received ${signal}`));
    void monitor.limitReached.then(() => stop(values.once ? 'processed one job (--once)' : `processed ${values['max-jobs']} job(s) (--max-jobs)`));
    const timer = maxTime !== undefined ? setTimeout(() => stop(`ran ${maxTime}s (--max-time)`), maxTime * 1000) : undefined;
    if (values['stop-when-empty']) {
      app
        .get(JobRunnerService)
        .drain()
        .then(() => stop('the queue is empty (--stop-when-empty)'))
        .catch((error: Error) => stop(`checking the queue failed: ${error.message}`));
    }
    const why = await stopped;
    clearTimeout(timer);
    out.error(`Worker stopping: ${why}.`);
    return 0;
  },
};
