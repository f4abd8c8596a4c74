// Small DOM helpers: elements are built with createElement and textContent only (never
// innerHTML), so nothing a job carries (payloads, errors, log lines) can become markup.

/** `h('a', { href: '#/' , class: 'x', onclick }, 'text', child…)`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value' && 'value' in el) el.value = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A date in the viewer's time zone and locale; '—' for none. */
export function when(value) {
  if (!value) return '—';
  const date = new Date(value);
  return isNaN(date.getTime()) ? '—' : date.toLocaleString();
}

/** `<time>` with the ISO value for machines and the local time for people. */
export function time(value) {
  return value ? h('time', { datetime: new Date(value).toISOString() }, when(value)) : '—';
}

export function duration(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A status badge (its text is the status: colour is never the only signal). */
export function badge(status) {
  return h('span', { class: `badge badge--${status}`, 'data-status': status }, status);
}

/** A labelled progress bar for a job; live events update it in place (see dashboard.js). */
export function progress(job) {
  const value = Math.max(0, Math.min(100, Math.round(Number(job.progress) || 0)));
  return h(
    'span',
    { class: 'bar', 'data-progress-of': job.jobId },
    h('progress', { max: '100', value: String(value), 'aria-label': `Progress of ${job.type} ${job.jobId}` }),
    h('span', { class: 'bar__text' }, `${value}%`),
  );
}

/** JSON shown in a `<pre>`; long values start collapsed in a `<details>`. */
export function json(value, label) {
  if (value === undefined || value === null) return h('p', { class: 'muted' }, 'None');
  const text = JSON.stringify(value, null, 2);
  const pre = h('pre', { class: 'json', tabindex: '0', 'aria-label': label }, text);
  if (text.length <= 400 && text.split('\n').length <= 12) return pre;
  return h('details', { class: 'collapsed' }, h('summary', {}, `Show ${label.toLowerCase()} (${text.length.toLocaleString()} characters)`), pre);
}

/** A table with a caption (visually hidden when `hideCaption`), headers and rows. */
export function table(caption, headers, rows, { empty = 'Nothing here.', hideCaption = false } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: hideCaption ? 'visually-hidden' : undefined }, caption),
      h('thead', {}, h('tr', {}, headers.map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, rows),
    ),
  );
}

export function jobLink(job) {
  // Job ids start with their creation time (UUIDv7): the end is what tells two apart.
  return h('a', { href: `#/jobs/${encodeURIComponent(job.jobId)}`, class: 'mono', 'aria-label': `Job ${job.jobId}`, title: job.jobId }, `…${job.jobId.slice(-12)}`);
}
