// The dashboard: hash routes (#/, #/jobs, #/jobs/<id>, #/failed, #/batches, #/schedules,
// #/workers, #/audit), each a view that builds its frame once and refreshes its data. Job events
// from the live feed move progress bars in place and refresh the view (counts, new jobs); with no
// feed the view is polled.
import { page, toast } from './actions.js';
import { startLive } from './live.js';
import { fill, h } from './dom.js';
import { overview } from './view-overview.js';
import { jobs } from './view-jobs.js';
import { job } from './view-job.js';
import { failed } from './view-failed.js';
import { schedules } from './view-schedules.js';
import { audit, batches, workers } from './view-others.js';

const ROUTES = { '': overview, jobs, failed, batches, schedules, workers, audit };
const TITLES = { '': 'Overview', jobs: 'Jobs', failed: 'Failed jobs', batches: 'Batches', schedules: 'Schedules', workers: 'Workers', audit: 'Audit log' };
/** How often the view is read again: with the live feed (for jobs just dispatched, which send no event), and without. */
const LIVE_REFRESH_MS = 10_000;
const POLL_MS = 3_000;

const main = document.getElementById('main');
let view = null;
let mode = 'starting';
let timer = null;
/** When the scheduled refresh is due (ms since the epoch), Infinity when none is. */
let dueAt = Infinity;
let refreshing = null;
let again = false;

function route() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name, id] = path.split('/').map(decodeURIComponent);
  const params = new URLSearchParams(query);
  const make = name === 'jobs' && id ? (m, p) => job(m, p, id) : ROUTES[name] ?? overview;
  document.title = `${id ? `Job …${id.slice(-12)}` : TITLES[name] ?? 'Overview'} · Managed jobs`;
  for (const link of document.querySelectorAll('.nav a')) {
    const target = link.getAttribute('href').replace(/^#\/?/, '');
    if (target === (name ?? '')) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  view = make(main, params);
  refresh();
}

/** Reads the view's data again; one read at a time, and one more if asked meanwhile. Keeps focus on the same control. */
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  const current = view;
  const focused = document.activeElement?.dataset?.key;
  refreshing = (async () => {
    try {
      await current.refresh();
      main.removeAttribute('aria-busy');
      document.body.dataset.loaded = 'true';
    } catch (error) {
      if (current !== view) return;
      if (error.status === 403) fill(main, h('h2', { class: 'page-title' }, 'Not allowed'), h('p', { role: 'alert' }, 'You are not allowed to see this dashboard (any more). Sign in again.'));
      else toast(`Could not load: ${error.message}`, 'error');
    } finally {
      if (focused) document.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
    }
  })();
  await refreshing;
  refreshing = null;
  if (again) {
    again = false;
    await refresh();
  }
  schedule();
}
page.refresh = refresh;

/**
 * The next refresh in \`delay\` ms, unless one is already due sooner: a refresh that was in flight
 * when a job event asked for one soon must not push it back to the periodic delay when it ends.
 */
function schedule(delay = mode === 'socket' ? LIVE_REFRESH_MS : POLL_MS) {
  const at = Date.now() + delay;
  if (timer && at >= dueAt) return;
  clearTimeout(timer);
  dueAt = at;
  timer = setTimeout(() => {
    timer = null;
    dueAt = Infinity;
    refresh();
  }, delay);
}

/** A job event: bars and badges of that job move now; counts follow with the next (soon) refresh. */
function onEvent(name, job) {
  const value = Math.max(0, Math.min(100, Math.round(Number(job.progress) || 0)));
  for (const bar of document.querySelectorAll(`[data-progress-of="${CSS.escape(job.jobId)}"]`)) {
    bar.querySelector('progress').value = value;
    bar.querySelector('.bar__text').textContent = `${value}%`;
  }
  for (const cell of document.querySelectorAll(`[data-message-of="${CSS.escape(job.jobId)}"]`)) cell.textContent = job.progressMessage ?? '';
  for (const cell of document.querySelectorAll(`[data-status-of="${CSS.escape(job.jobId)}"] .badge`)) {
    cell.textContent = job.status;
    cell.className = `badge badge--${job.status}`;
    cell.dataset.status = job.status;
  }
  if (name !== 'job.progress') schedule(300);
}

function onMode(next, why) {
  if (next === mode && next !== 'polling') return;
  const wasLive = mode === 'socket';
  mode = next;
  document.body.dataset.live = next;
  document.getElementById('live').textContent = next === 'socket' ? 'Live' : `Refreshing every ${POLL_MS / 1000} s${why ? ` (${why})` : ''}`;
  if (next === 'socket' && !wasLive) schedule(0); // catch up on what happened while not connected
  else if (next !== 'socket') schedule();
}

window.addEventListener('hashchange', () => {
  route();
  main.focus({ preventScroll: true }); // screen readers start at the new view
});
route();
startLive({ onEvent, onMode }).catch(() => onMode('polling', 'live updates failed to start'));
