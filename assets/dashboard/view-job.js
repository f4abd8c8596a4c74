// One job: what it was asked (payload), what it answered (result), how far it got (progress),
// every run as a timeline (attempts, with their errors), steps, files and log lines.
import { get, post } from './api.js';
import { actionButton } from './actions.js';
import { badge, bytes, duration, fill, h, json, progress, table, time } from './dom.js';

export function job(main, params, jobId) {
  const body = h('div');
  fill(main, h('p', {}, h('a', { href: '#/jobs' }, '← All jobs')), body);

  return {
    async refresh() {
      let details;
      try {
        details = await get(`jobs/${encodeURIComponent(jobId)}`);
      } catch (error) {
        if (error.status !== 404) throw error;
        fill(body, h('h2', { class: 'page-title' }, 'Job not found'), h('p', {}, `No job ${jobId} (it may have been deleted).`));
        return;
      }
      const { job: j, attempts, steps, files, logs } = details;
      fill(
        body,
        h('h2', { class: 'page-title' }, `${j.type} `, h('span', { 'data-status-of': j.jobId }, badge(j.status))),
        h('p', { class: 'mono muted' }, j.jobId),
        h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Job actions' }, actions(j)),
        h('dl', { class: 'facts' },
          fact('Queue', j.queue),
          fact('Owner', `${j.ownerUserId ?? '—'}${j.ownerTenantId ? ` (tenant ${j.ownerTenantId})` : ''}`),
          fact('Progress', [progress(j), h('span', { 'data-message-of': j.jobId }, j.progressMessage ? ` ${j.progressMessage}` : '')]),
          fact('Tries', `${j.attempts} of ${j.maxAttempts}`),
          fact('Priority', String(j.priority)),
          fact('Created', time(j.createdAt)),
          fact('Available', time(j.availableAt)),
          fact('Started', time(j.startedAt)),
          fact('Finished', time(j.finishedAt)),
          j.workerId ? fact('Worker', h('span', { class: 'mono' }, j.workerId)) : null,
        ),
        j.failedReason ? h('section', { class: 'error', 'aria-labelledby': 'error-title' }, h('h3', { id: 'error-title' }, 'Error'), h('pre', { class: 'error__text' }, j.failedReason)) : null,
        section('Payload', json(j.payload, 'Payload')),
        section('Result', json(j.result, 'Result')),
        section('Attempts', timeline(j, attempts)),
        section('Steps', table('Steps', ['Step', 'Completed', 'Result'], steps.map((s) => h('tr', {}, h('td', {}, s.name), h('td', {}, time(s.completedAt)), h('td', {}, json(s.result, `Result of ${s.name}`)))), { empty: 'No step.', hideCaption: true })),
        section('Files', table('Files', ['File', 'Type', 'Size', 'Expires'], files.map((f) => h('tr', {}, h('td', {}, f.filename), h('td', {}, f.mimeType), h('td', { class: 'num' }, bytes(f.sizeBytes)), h('td', {}, time(f.expiresAt)))), { empty: 'No file.', hideCaption: true })),
        section('Logs', table('Logs', ['At', 'Level', 'Message'], logs.map((l) => h('tr', { class: `log log--${l.level}` }, h('td', {}, time(l.at)), h('td', {}, l.level), h('td', {}, l.message, l.data !== null && l.data !== undefined ? h('code', { class: 'log__data' }, ` ${JSON.stringify(l.data)}`) : ''))), { empty: 'No log line.', hideCaption: true })),
      );
    },
  };
}

function fact(name, value) {
  return h('div', {}, h('dt', {}, name), h('dd', {}, value));
}

function section(title, content) {
  const id = `section-${title.toLowerCase()}`;
  return h('section', { 'aria-labelledby': id }, h('h3', { id }, title), content);
}

function actions(j) {
  const id = encodeURIComponent(j.jobId);
  const out = [];
  if (j.status === 'failed' || j.status === 'stopped') out.push(actionButton('Retry', { run: () => post('jobs/retry', { jobIds: [j.jobId] }), done: () => 'Sent back to its queue.', key: 'retry', kind: 'primary' }));
  if (j.status === 'pending' || j.status === 'running') out.push(actionButton('Stop', { run: () => post(`jobs/${id}/stop`), done: () => 'Stop requested.', key: 'stop' }));
  if (j.status === 'completed' || j.status === 'failed' || j.status === 'stopped') {
    out.push(actionButton('Delete', {
      run: async () => {
        const result = await post('jobs/delete', { jobIds: [j.jobId] });
        location.hash = '#/jobs';
        return result;
      },
      done: (r) => (r.count ? 'Job deleted.' : 'Nothing deleted.'),
      confirm: `Delete job ${j.jobId}, with its files and logs?`,
      key: 'delete',
      kind: 'danger',
    }));
  }
  return out;
}

/** Each run in order, the one in progress last. */
function timeline(j, attempts) {
  const items = attempts.map((a) =>
    h(
      'li',
      { class: `run run--${a.outcome}`, 'data-attempt': String(a.attempt) },
      h('p', { class: 'run__head' }, h('strong', {}, `Attempt ${a.attempt}`), ' ', badge(a.outcome), ' ', h('span', { class: 'muted' }, duration(Date.parse(a.finishedAt) - Date.parse(a.startedAt)))),
      h('p', { class: 'muted' }, time(a.startedAt), ' → ', time(a.finishedAt), ' · ', h('span', { class: 'mono' }, a.workerId)),
      a.error ? h('pre', { class: 'run__error' }, a.error) : null,
    ),
  );
  if (j.status === 'running') {
    items.push(h('li', { class: 'run run--running', 'data-attempt': String(j.attempts) }, h('p', { class: 'run__head' }, h('strong', {}, `Attempt ${j.attempts}`), ' ', badge('running')), h('p', { class: 'muted' }, 'since ', time(j.startedAt))));
  }
  return items.length ? h('ol', { class: 'timeline' }, items) : h('p', { class: 'empty' }, 'Not run yet.');
}
