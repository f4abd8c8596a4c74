/**
 * `--check`: the run's figures against the targets of bench/lib/targets.mjs, one line each
 * (figure · ours · peer · ratio · target · ok/MISS), with the ratios computed as the report's
 * (report.mjs `pairedRatio`: the median of per-repetition ratios, >1× = ours better).
 */
import { TARGETS } from './targets.mjs';
import { fmt, median, metricsOf, pairedRatio } from './report.mjs';

/** Every (target, ours contender, peer contender) the contenders of a run give. */
export function expandTargets(contenders) {
  const out = [];
  for (const t of TARGETS) {
    const ours = t.ours.contender === 'ours*' ? contenders.filter((c) => c.ours).map((c) => c.id) : [t.ours.contender];
    for (const id of ours) out.push({ t, ours: { ...t.ours, contender: id }, peer: { ...t.peer, contender: t.peer.contender === '=' ? id : t.peer.contender } });
  }
  return out;
}

/** Whether a target needs `scenarioId` run by `contenderId` (what `--check` runs, unless told otherwise). */
export function targetNeeds(scenarioId, contender, contenders) {
  return expandTargets(contenders).some((x) => [x.ours, x.peer].some((ref) => ref.scenario === scenarioId && ref.contender === contender.id));
}

/** The contenders the targets name (`ours*`: our SQLite and PostgreSQL engines). */
export function targetContenders(all) {
  const named = new Set(TARGETS.flatMap((t) => [t.ours.contender, t.peer.contender]));
  return all.filter((c) => named.has(c.id) || (c.ours && named.has('ours*') && c.id !== 'ours-mariadb'));
}

/** The scenarios the targets name. */
export function targetScenarios(all) {
  const named = new Set(TARGETS.flatMap((t) => [t.ours.scenario, t.peer.scenario]));
  return all.filter((s) => named.has(s.id));
}

function metric(scenarios, ref) {
  const rows = metricsOf(scenarios.filter((s) => s.id === ref.scenario));
  const key = ref.metric ?? 'value';
  return rows.find((r) => r.key === key) ?? { key, pick: (r) => r[key], better: rows[0]?.better ?? 'lower', kind: 'num' };
}

const bound = ([min, max], unit = '') =>
  min != null && max != null ? `${min}–${max}${unit}` : min != null ? `≥ ${min}${unit}` : `≤ ${max}${unit}`;

/**
 * Checks the targets against `results[scenarioId][contenderId] = [per-repetition results]`.
 * Returns the Markdown table (`text`) and how many targets were missed (an error counts as a
 * miss) or could not be checked because their scenario did not run (`skipped`).
 */
export function checkTargets({ scenarios, contenders, results }) {
  const label = (id) => contenders.find((c) => c.id === id)?.label ?? id;
  const lines = ['| Issue | Figure | Ours | Peer | Ratio | Target | |', '| --- | --- | ---: | ---: | ---: | ---: | --- |'];
  let missed = 0;
  let skipped = 0;
  for (const { t, ours, peer } of expandTargets(contenders)) {
    const om = metric(scenarios, ours);
    const pm = metric(scenarios, peer);
    const oRuns = results[ours.scenario]?.[ours.contender];
    const pRuns = results[peer.scenario]?.[peer.contender];
    const valueOf = (runs, m) => {
      const vals = (runs ?? []).filter((r) => !r.error).map(m.pick).filter((v) => typeof v === 'number');
      return vals.length ? median(vals) : null;
    };
    const ov = valueOf(oRuns, om);
    const pv = valueOf(pRuns, pm);
    const q = pairedRatio(oRuns, pRuns, om.pick, pm.pick, om.better);
    const peerName = peer.contender === ours.contender ? `${peer.scenario}${peer.metric ? `.${peer.metric}` : ''}` : label(peer.contender);
    const oursName = `${label(ours.contender)}${ours.metric ? ` ${ours.metric}` : ''}`;
    let verdict;
    if (!oRuns?.length || (t.ratio && !pRuns?.length)) {
      verdict = 'not run';
      skipped++;
    } else if (ov === null || (t.ratio && !q)) {
      verdict = '**MISS** (error)';
      missed++;
    } else {
      const x = t.ratio ? q.median : ov;
      const [min, max] = t.ratio ?? t.value;
      const ok = (min == null || x >= min) && (max == null || x <= max);
      verdict = ok ? 'ok' : '**MISS**';
      if (!ok) missed++;
    }
    const ratioText = q ? `${q.median.toFixed(2)}×${q.n > 1 ? ` (${q.min.toFixed(2)}–${q.max.toFixed(2)})` : ''}` : '–';
    lines.push(
      `| ${t.issue} | ${t.figure} | ${oursName}: ${fmt(ov, om.kind)} | ${peerName}: ${fmt(pv, pm.kind)} | ${ratioText} | ${t.ratio ? bound(t.ratio, '×') : bound(t.value)} | ${verdict} |`,
    );
  }
  return { text: lines.join('\n'), missed, skipped };
}
