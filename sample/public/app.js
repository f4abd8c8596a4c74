// Live job progress with nestjs-managed-jobs: plain browser JS, no build step.
// The demo identifies the user by the id typed in the page, sent as `Authorization: Bearer <id>`
// over HTTP and `auth: { token: <id> }` in the socket handshake; a real app uses its session.
'use strict';

const CONFIG = {
  namespace: '/managed-jobs',
  jobsPath: '/jobs',
  channel: (user) => `jobs.${user}`,
};

const ACTIVE = new Set(['pending', 'running']);
// The import batch's members are shown by the batch's one bar, not one card each.
const BATCH_MEMBER_TYPES = new Set(['import-file']);
const jobs = new Map(); // jobId → last state shown
const batches = new Map(); // batchId → last batch state (events may come before the POST answers)
let shownBatchId = null;
const $ = (id) => document.getElementById(id);
let socket = null;
let user = '';

function authHeaders() {
  return { Authorization: `Bearer ${user}` };
}

async function api(method, path, body) {
  return request(method, `${CONFIG.jobsPath}${path}`, body);
}

async function request(method, url, body) {
  const response = await fetch(url, {
    method,
    // Every POST says it is JSON, even without a body (a retry): the API refuses anything else (415).
    headers: { ...authHeaders(), ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error(describeError(data) || `${response.status} ${response.statusText}`);
  return data;
}

function describeError(data) {
  if (!data) return '';
  const message = Array.isArray(data.message) ? data.message.join('; ') : data.message;
  const violations = (data.violations || data.errors || []).map((v) => (typeof v === 'string' ? v : `${v.property}: ${Object.values(v.constraints || {}).join(', ')}`));
  return [message, ...violations].filter(Boolean).join(' · ');
}

// ---- rendering ------------------------------------------------------------------------------

function render(job) {
  if (BATCH_MEMBER_TYPES.has(job.type)) return;
  const previous = jobs.get(job.jobId);
  // An older state (e.g. a late list response) never overwrites a newer one.
  if (previous && Date.parse(job.updatedAt) < Date.parse(previous.updatedAt)) return;
  const merged = { ...previous, ...job };
  jobs.set(job.jobId, merged);

  let item = document.querySelector(`[data-job-id="${job.jobId}"]`);
  if (!item) {
    item = $('job-template').content.firstElementChild.cloneNode(true);
    item.dataset.jobId = job.jobId;
    item.querySelector('.stop').addEventListener('click', () => stop(job.jobId, item));
    $('jobs').prepend(item);
  }
  const percent = Math.max(0, Math.min(100, Number(merged.progress) || 0));
  item.dataset.status = merged.status;
  item.querySelector('.job__type').textContent = merged.type;
  item.querySelector('.badge').textContent = merged.status;
  item.querySelector('.badge').dataset.status = merged.status;
  item.querySelector('.progress').setAttribute('aria-valuenow', String(percent));
  item.querySelector('.progress__fill').style.width = `${percent}%`;
  item.querySelector('.job__percent').textContent = `${percent}%`;
  item.querySelector('.job__message').textContent = merged.progressMessage || '';
  item.querySelector('.job__reason').textContent = merged.status === 'failed' ? merged.failedReason || 'Failed' : '';
  item.querySelector('.job__id').textContent = merged.jobId;
  item.querySelector('.stop').hidden = !ACTIVE.has(merged.status);
  $('empty').hidden = jobs.size > 0;
  if (merged.status === 'completed' && previous?.status !== 'completed') void showFiles(merged.jobId, item);
}

/** One bar for the whole batch: `batch.progress` moves it, `batch.finished` ends it. */
function renderBatch(batch) {
  const previous = batches.get(batch.batchId);
  // Counters only grow and a finished batch stays finished: a late answer never moves it back.
  if (previous && (previous.status !== 'running' || previous.completed + previous.failed > batch.completed + batch.failed)) return;
  batches.set(batch.batchId, batch);
  if (batch.batchId === shownBatchId) drawBatch(batch);
}

function drawBatch(batch) {
  const percent = Math.max(0, Math.min(100, Number(batch.progress) || 0));
  const card = $('batch');
  card.hidden = false;
  card.dataset.status = batch.status;
  $('batch-name').textContent = batch.name || 'Batch';
  $('batch-status').textContent = batch.status === 'running' ? 'running' : `done · ${batch.status}`;
  $('batch-status').dataset.status = batch.status;
  $('batch-progress').setAttribute('aria-valuenow', String(percent));
  card.querySelector('.progress__fill').style.width = `${percent}%`;
  $('batch-percent').textContent = `${percent}%`;
  $('batch-counts').textContent = `${batch.completed} of ${batch.total} imported${batch.failed ? ` · ${batch.failed} failed` : ''}`;
  $('batch-id').textContent = batch.batchId;
}

async function importFiles() {
  $('import-error').textContent = '';
  signIn($('user').value.trim());
  if (!user) {
    $('import-error').textContent = 'Type a user id first.';
    return;
  }
  $('import').disabled = true;
  try {
    const batch = await request('POST', '/demo/imports', { files: 20 });
    shownBatchId = batch.batchId;
    renderBatch(batch); // ignored if its socket events came first
    drawBatch(batches.get(batch.batchId));
  } catch (error) {
    $('import-error').textContent = error.message;
  } finally {
    $('import').disabled = false;
  }
}

/** After a (re)connect: events missed while offline are not replayed, so read the batch once. */
async function refreshBatch() {
  const shown = batches.get(shownBatchId);
  if (!shown || shown.status !== 'running') return;
  try {
    renderBatch(await api('GET', `/batches/${shown.batchId}`));
  } catch {
    // The next socket event will bring it.
  }
}

async function showFiles(jobId, item) {
  try {
    const data = await api('GET', `/${jobId}/files`);
    const files = Array.isArray(data) ? data : data?.data || [];
    const list = item.querySelector('.files');
    list.replaceChildren(
      ...files.map((file) => {
        const id = file.jobFileId ?? file.id;
        const link = document.createElement('a');
        link.href = `${CONFIG.jobsPath}/${jobId}/files/${id}/download`;
        link.textContent = `⬇ ${file.filename}`;
        link.addEventListener('click', (event) => {
          event.preventDefault(); // fetch with the auth header, then save
          void download(link.href, file.filename);
        });
        const li = document.createElement('li');
        li.append(link);
        return li;
      }),
    );
  } catch (error) {
    item.querySelector('.job__reason').textContent = `Files: ${error.message}`;
  }
}

async function download(url, filename) {
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) return alert(`Download failed: ${response.status}`);
  const href = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement('a'), { href, download: filename });
  a.click();
  URL.revokeObjectURL(href);
}

// ---- actions --------------------------------------------------------------------------------

async function start(event) {
  event.preventDefault();
  $('form-error').textContent = '';
  signIn($('user').value.trim());
  let payload;
  try {
    payload = JSON.parse($('payload').value || '{}');
  } catch {
    $('form-error').textContent = 'The payload is not valid JSON.';
    return;
  }
  $('start').disabled = true;
  try {
    const { jobId } = await api('POST', '', { type: $('type').value.trim(), payload });
    // The socket will bring its events; show the job at once in case it is still queued.
    if (!jobs.has(jobId)) render({ jobId, type: $('type').value.trim(), status: 'pending', progress: 0, updatedAt: new Date(0).toISOString() });
  } catch (error) {
    $('form-error').textContent = error.message;
  } finally {
    $('start').disabled = false;
  }
}

async function stop(jobId, item) {
  const button = item.querySelector('.stop');
  button.disabled = true;
  try {
    render(await api('DELETE', `/${jobId}`).then((job) => ({ ...job, progress: job.progress ?? job.progressPercentage })));
  } catch (error) {
    item.querySelector('.job__reason').textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

// ---- live updates ---------------------------------------------------------------------------

function signIn(next) {
  if (!next || next === user) return;
  user = next;
  localStorage.setItem('managed-jobs-demo-user', user);
  jobs.clear();
  $('jobs').replaceChildren();
  $('empty').hidden = false;
  batches.clear();
  shownBatchId = null;
  $('batch').hidden = true;
  socket?.close();
  socket = io(CONFIG.namespace, { auth: { token: user } });
  const status = (on, text) => {
    $('connection').textContent = text;
    $('connection').className = `pill ${on ? 'pill--on' : 'pill--off'}`;
  };
  // (Re)subscribe on every connect: the snapshot brings back whatever changed while offline.
  socket.on('connect', () => {
    status(true, `live · ${CONFIG.channel(user)}`);
    socket.emit('subscribe', { channel: CONFIG.channel(user) }, (ack) => {
      if (!ack?.ok) status(false, ack?.error || 'subscribe refused');
      else void refreshBatch();
    });
  });
  socket.on('disconnect', () => status(false, 'reconnecting…'));
  socket.on('connect_error', (error) => status(false, error.message));
  socket.on('job.snapshot', ({ jobs: active }) => active.forEach(render));
  for (const name of ['job.started', 'job.progress', 'job.completed', 'job.stopped', 'job.failed']) socket.on(name, render);
  for (const name of ['batch.progress', 'batch.finished']) socket.on(name, renderBatch);
  void loadRecent();
}

/** Finished jobs are not in the snapshot (it lists active ones): fetch the latest page. */
async function loadRecent() {
  try {
    const { data } = await api('GET', '?limit=10');
    data.reverse().forEach((job) => render({ ...job, progress: job.progress ?? job.progressPercentage, updatedAt: job.updatedAt }));
  } catch {
    // The list is a nicety; live events still work without it.
  }
}

$('start-form').addEventListener('submit', start);
$('import').addEventListener('click', () => void importFiles());
$('user').addEventListener('change', () => signIn($('user').value.trim()));
const saved = localStorage.getItem('managed-jobs-demo-user');
if (saved) {
  $('user').value = saved;
  signIn(saved);
}
