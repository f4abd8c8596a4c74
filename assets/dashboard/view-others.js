// Workers, the audit log, and batches.
import { get } from './api.js';
import { badge, fill, h, jobLink, table, time } from './dom.js';
import { pager } from './view-jobs.js';

export function workers(main) {
  const list = h('div');
  fill(main, h('h2', { class: 'page-title' }, 'Workers'), list);
  return {
    async refresh() {
      const { data } = await get('workers');
      fill(
        list,
        table(
          'Workers',
          ['Worker', 'Host', 'PID', 'Queues', 'Running', 'Started', 'Last seen'],
          data.map((w) =>
            h('tr', {}, h('td', { class: 'mono' }, w.workerId), h('td', {}, w.hostname), h('td', { class: 'num' }, String(w.pid)), h('td', {}, w.queues.join(', ')),
              h('td', { class: 'num' }, `${w.running} / ${w.concurrency}`), h('td', {}, time(w.startedAt)), h('td', {}, time(w.lastSeenAt))),
          ),
          { empty: 'No live worker.', hideCaption: true },
        ),
      );
    },
  };
}

export function audit(main, params) {
  const list = h('div');
  fill(main, h('h2', { class: 'page-title' }, 'Audit log'), list);
  return {
    async refresh() {
      const page = await get('audit', { page: params.get('page') || 1, limit: 50 });
      fill(
        list,
        table(
          'Audit log',
          ['At', 'Actor', 'Action', 'Target', 'Count', 'Reason'],
          page.data.map((a) => h('tr', {}, h('td', {}, time(a.at)), h('td', {}, a.actor ?? '—'), h('td', {}, a.action), h('td', { class: 'mono wrap' }, a.target), h('td', { class: 'num' }, String(a.count)), h('td', {}, a.reason ?? ''))),
          { empty: 'No operator action yet.', hideCaption: true },
        ),
        pager(page.meta, (n) => (location.hash = `#/audit?page=${n}`)),
      );
    },
  };
}

/** A batch by id: its progress and members by status, when the server has batches (404 otherwise). */
export function batches(main, params) {
  const input = h('input', { name: 'batchId', value: params.get('id') ?? '', autocomplete: 'off', required: true });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find a batch' }, h('label', { class: 'field' }, h('span', {}, 'Batch id'), input), h('button', { type: 'submit', class: 'btn btn--primary' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/batches?id=${encodeURIComponent(input.value.trim())}`;
  });
  const body = h('div');
  fill(main, h('h2', { class: 'page-title' }, 'Batches'), form, body);
  return {
    async refresh() {
      const id = params.get('id');
      if (!id) return fill(body, h('p', { class: 'muted' }, 'Enter a batch id to see its progress and its jobs.'));
      let batch;
      try {
        batch = await get(`batches/${encodeURIComponent(id)}`);
      } catch (error) {
        if (error.status !== 404) throw error;
        return fill(body, h('p', { class: 'empty' }, `No batch ${id} (or this server has no batches).`));
      }
      const members = await get('jobs', { batchId: id, limit: 100 });
      const byStatus = new Map();
      for (const job of members.data) byStatus.set(job.status, [...(byStatus.get(job.status) ?? []), job]);
      // A BatchRecord: counters kept by the database (pending includes members still waiting).
      const counts = ['pending', 'running', 'completed', 'failed', 'stopped'].map((status) => [status, Number(batch[status] ?? 0)]);
      const done = Number(batch.progress ?? 0);
      fill(
        body,
        h('p', {}, batch.name ? h('strong', {}, batch.name, ' ') : null, h('span', { class: 'mono' }, id), ' ', badge(batch.status), ` ${batch.total} jobs`),
        h('p', { class: 'bar' }, h('progress', { max: '100', value: String(Math.round(done)), 'aria-label': 'Batch progress' }), h('span', { class: 'bar__text' }, `${Math.round(done)}%`)),
        h('ul', { class: 'plain' }, counts.map(([status, n]) => h('li', {}, badge(status), ` ${n}`))),
        [...byStatus].map(([status, jobs]) => h('section', {}, h('h3', {}, `${status} (${jobs.length})`), h('ul', { class: 'plain' }, jobs.map((job) => h('li', {}, jobLink(job), ` ${job.type}`))))),
      );
    },
  };
}
