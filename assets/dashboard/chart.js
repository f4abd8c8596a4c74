// The overview's chart: completed and failed jobs per minute over the last hour, as an SVG
// built with the DOM (no inline style: the page's CSP allows only its own stylesheet).

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.append(child);
  return el;
}

/** `points`: oldest minute first, `{ minutesAgo, completed, failed }`. */
export function throughputChart(points) {
  const width = 600;
  const height = 120;
  const pad = { left: 32, right: 6, top: 8, bottom: 18 };
  const max = Math.max(1, ...points.map((p) => p.completed + p.failed));
  const slot = (width - pad.left - pad.right) / Math.max(1, points.length);
  const y = (n) => ((height - pad.top - pad.bottom) * n) / max;
  const completed = points.reduce((sum, p) => sum + p.completed, 0);
  const failed = points.reduce((sum, p) => sum + p.failed, 0);
  const title = `Last ${points.length} minutes: ${completed} completed, ${failed} failed (at most ${max} in a minute)`;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title }, svg('title', {}, title));
  const base = height - pad.bottom;
  chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: base, y2: base, class: 'chart__axis' }));
  chart.append(svg('text', { x: pad.left - 4, y: pad.top + 8, class: 'chart__label', 'text-anchor': 'end' }, String(max)));
  chart.append(svg('text', { x: pad.left - 4, y: base, class: 'chart__label', 'text-anchor': 'end' }, '0'));
  points.forEach((p, i) => {
    const x = pad.left + i * slot + 1;
    const w = Math.max(1, slot - 2);
    const hc = y(p.completed);
    const hf = y(p.failed);
    const tip = `${p.minutesAgo === 0 ? 'this minute' : `${p.minutesAgo} min ago`}: ${p.completed} completed, ${p.failed} failed`;
    if (hc) chart.append(svg('rect', { x, y: base - hc, width: w, height: hc, class: 'chart__completed' }, svg('title', {}, tip)));
    if (hf) chart.append(svg('rect', { x, y: base - hc - hf, width: w, height: hf, class: 'chart__failed' }, svg('title', {}, tip)));
  });
  for (const ago of [60, 45, 30, 15, 0]) {
    const i = points.length - 1 - ago;
    if (i < 0 && ago !== 60) continue;
    const x = pad.left + Math.max(0, i) * slot;
    chart.append(svg('text', { x, y: height - 4, class: 'chart__label', 'text-anchor': ago === 0 ? 'end' : 'start' }, ago === 0 ? 'now' : `-${ago} min`));
  }
  return chart;
}
