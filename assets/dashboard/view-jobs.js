// Jobs of every owner, newest first, with filters (kept in the address, so back and reload keep
// them) and pages.
import { get } from './api.js';
import { badge, fill, h, jobLink, progress, table, time } from './dom.js';

const STATUSES = ['', 'pending', 'running', 'completed', 'failed', 'stopped'];
const FILTERS = ['status', 'queue', 'type', 'ownerId', 'search'];
const LIMIT = 25;

export function jobRow(job, extra = []) {
  return h(
    'tr',
    { 'data-job-id': job.jobId },
    h('td', {}, jobLink(job)),
    h('td', {}, job.type),
    h('td', {}, job.queue),
    h('td', { 'data-status-of': job.jobId }, badge(job.status)),
    h('td', {}, progress(job)),
    h('td', {}, job.ownerUserId ?? '—', job.ownerTenantId ? ` (${job.ownerTenantId})` : ''),
    h('td', {}, time(job.createdAt)),
    extra,
  );
}

export const JOB_HEADERS = ['Job', 'Type', 'Queue', 'Status', 'Progress', 'Owner', 'Created'];

/** Previous / next, and where we are; `go(page)` moves. */
export function pager(meta, go) {
  const pages = Math.max(1, Math.ceil(meta.total / meta.limit));
  const button = (label, page, disabled) => h('button', { type: 'button', class: 'btn', disabled: disabled || undefined, onclick: () => go(page) }, label);
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    button('Previous', meta.page - 1, meta.page <= 1),
    h('span', { 'aria-live': 'polite' }, `Page ${meta.page} of ${pages} · ${meta.total} job${meta.total === 1 ? '' : 's'}`),
    button('Next', meta.page + 1, meta.page >= pages),
  );
}

export function jobs(main, params) {
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs' });
  const field = (name, label, control) => h('label', { class: 'field' }, h('span', {}, label), control);
  form.append(
    field('status', 'Status', h('select', { name: 'status' }, STATUSES.map((s) => h('option', { value: s, selected: params.get('status') === s || undefined }, s || 'any')))),
    field('queue', 'Queue', h('input', { name: 'queue', value: params.get('queue') ?? '', autocomplete: 'off' })),
    field('type', 'Type', h('input', { name: 'type', value: params.get('type') ?? '', autocomplete: 'off' })),
    field('ownerId', 'Owner', h('input', { name: 'ownerId', value: params.get('ownerId') ?? '', autocomplete: 'off' })),
    field('search', 'Search', h('input', { name: 'search', type: 'search', value: params.get('search') ?? '', placeholder: 'id, type, error or message', autocomplete: 'off' })),
    h('button', { type: 'submit', class: 'btn btn--primary' }, 'Apply'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const value = form.elements[name].value.trim();
      if (value) next.set(name, value);
    }
    location.hash = `#/jobs${next.size ? `?${next}` : ''}`;
  });
  const list = h('div');
  fill(main, h('h2', { class: 'page-title' }, 'Jobs'), form, list);

  return {
    async refresh() {
      const query = { limit: LIMIT, page: params.get('page') || 1 };
      for (const name of FILTERS) query[name] = params.get(name) || undefined;
      const page = await get('jobs', query);
      fill(
        list,
        table('Jobs', JOB_HEADERS, page.data.map((job) => jobRow(job)), { empty: 'No job matches.', hideCaption: true }),
        pager(page.meta, (n) => {
          const next = new URLSearchParams(params);
          next.set('page', String(n));
          location.hash = `#/jobs?${next}`;
        }),
      );
    },
  };
}
