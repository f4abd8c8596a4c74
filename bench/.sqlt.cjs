const Database = require('better-sqlite3');
const proto = Object.getPrototypeOf(new Database(':memory:').prepare('select 1'));
const t = new Map();
for (const m of ['get', 'all', 'run']) {
  const orig = proto[m];
  proto[m] = function (...a) { const t0 = process.hrtime.bigint(); try { return orig.apply(this, a); } finally { const d = Number(process.hrtime.bigint() - t0) / 1e6; const k = this.source; const e = t.get(k) || [0, 0]; e[0]++; e[1] += d; t.set(k, e); } };
}
process.on('exit', () => { for (const [k, [n, ms]] of [...t].sort((x, y) => y[1][1] - x[1][1]).slice(0, 10)) process.stderr.write(`SQLT ${ms.toFixed(0)}ms n=${n} ${(ms * 1000 / n).toFixed(1)}us ${k.replace(/\s+/g, ' ').slice(0, 400)}\n`); });
