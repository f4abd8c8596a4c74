// Overview: queues with their counts (from stats()), paused state and pause/resume; jobs
// finished per minute over the last hour; what runs now; the live workers.
import { get, post } from './api.js';
import { actionButton } from './actions.js';
import { throughputChart } from './chart.js';
import { badge, duration, fill, h, jobLink, progress, table, time } from './dom.js';

const COUNTS = ['pending', 'waiting', 'running', 'completed', 'failed', 'stopped'];

export function overview(main) {
  const queues = h('div');
  const chart = h('div', { class: 'chart-wrap' });
  const running = h('div');
  const workers = h('div');
  fill(
    main,
    h('h2', { class: 'page-title' }, 'Overview'),
    h('section', { 'aria-labelledby': 'queues-title' }, h('h3', { id: 'queues-title' }, 'Queues'), queues),
    h('div', { class: 'grid' },
      h('section', { 'aria-labelledby': 'chart-title' }, h('h3', { id: 'chart-title' }, 'Finished in the last hour'), chart),
      h('section', { 'aria-labelledby': 'workers-title' }, h('h3', { id: 'workers-title' }, 'Workers'), workers),
    ),
    h('section', { 'aria-labelledby': 'running-title' }, h('h3', { id: 'running-title' }, 'Running now'), running),
  );

  return {
    async refresh() {
      const [stats, throughput, now, live] = await Promise.all([
        get('stats'),
        get('throughput', { minutes: 60 }),
        get('jobs', { status: 'running', limit: 20 }),
        get('workers'),
      ]);
      fill(queues, queueTable(stats));
      fill(chart, throughputChart(throughput.points), legend());
      fill(
        running,
        table(
          'Running jobs',
          ['Job', 'Type', 'Queue', 'Progress', 'Message', 'Started'],
          now.data.map((job) =>
            h('tr', { 'data-job-id': job.jobId }, h('td', {}, jobLink(job)), h('td', {}, job.type), h('td', {}, job.queue), h('td', {}, progress(job)),
              h('td', { 'data-message-of': job.jobId }, job.progressMessage || ''), h('td', {}, time(job.startedAt))),
          ),
          { empty: 'No job is running.', hideCaption: true },
        ),
      );
      fill(
        workers,
        h('p', {}, `${stats.workers} live worker process${stats.workers === 1 ? '' : 'es'}, running ${plural(live.data.reduce((n, w) => n + w.running, 0), 'job')}.`),
        h('ul', { class: 'plain' }, live.data.map((w) => h('li', {}, h('span', { class: 'mono' }, w.workerId), ` · ${w.running}/${w.concurrency} · ${w.queues.join(', ')}`))),
      );
    },
  };
}

function queueTable(stats) {
  return table(
    'Queues',
    ['Queue', 'State', ...COUNTS.map((c) => c[0].toUpperCase() + c.slice(1)), 'Oldest pending', 'Actions'],
    stats.queues.map((q) =>
      h(
        'tr',
        { 'data-queue': q.queue },
        h('th', { scope: 'row' }, q.queue),
        h('td', {}, q.paused ? badge('paused') : badge('active')),
        COUNTS.map((c) => h('td', { class: 'num', 'data-count': c }, h('a', { href: `#/jobs?status=${c === 'waiting' ? '' : c}&queue=${encodeURIComponent(q.queue)}` }, String(q[c])))),
        h('td', {}, duration(q.oldestPendingAgeMs)),
        h(
          'td',
          {},
          q.paused
            ? actionButton('Resume', { run: () => post(`queues/${encodeURIComponent(q.queue)}/resume`), done: () => `Queue ${q.queue} resumed.`, key: `resume:${q.queue}`, ariaLabel: `Resume queue ${q.queue}` })
            : actionButton('Pause', { run: () => post(`queues/${encodeURIComponent(q.queue)}/pause`), done: () => `Queue ${q.queue} paused: no worker claims from it until it is resumed.`, key: `pause:${q.queue}`, ariaLabel: `Pause queue ${q.queue}` }),
        ),
      ),
    ),
    { hideCaption: true, empty: 'No queue yet.' },
  );
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function legend() {
  return h('p', { class: 'legend' }, h('span', { class: 'swatch swatch--completed' }), ' completed ', h('span', { class: 'swatch swatch--failed' }), ' failed');
}
