#!/usr/bin/env node
/**
 * Side-by-side benchmark: nestjs-managed-jobs (SQLite, PostgreSQL, MariaDB) vs BullMQ (Redis), pg-boss and
 * graphile-worker (PostgreSQL). Run from the repository root:
 *
 *   npm run bench              full: 3 repetitions, issue-6 sizes
 *   npm run bench -- --quick   1 repetition, smaller sizes (a few minutes)
 *   npm run bench -- --quick --check
 *                              the figures the issues set targets for (bench/lib/targets.mjs), opt-in
 *                              scenarios included, by the contenders they name; prints each against
 *                              its target and exits 1 when one is missed (--check=<results.json>:
 *                              checks a written result instead of running)
 *   options: --reps=N  --only=drain10,latencyIn,...  --contenders=ours-pg,bullmq,...  --no-write
 *            (--only=batch10,batchBig,scale,pruneLoad,memory1M: the workflow and the heavy scenarios,
 *            run only when named or by --check; --quick runs them at a tenth of the size)
 *            --durable (PostgreSQL with synchronous_commit on; default off, see lib/services.mjs)
 *            --profile (CPU profiles of the children in bench/.work/profiles, open in Chrome DevTools)
 *   PostgreSQL's side, by environment: NMJ_BENCH_PG_STATEMENTS=1 appends each scenario's costliest
 *            statements (pg_stat_statements: calls, total and mean time) to bench/.work/pg-statements.txt;
 *            NMJ_BENCH_PG_EXPLAIN=<ms> logs the plans of 5% of the statements slower than that
 *            (auto_explain with ANALYZE and BUFFERS) to bench/.work/pg-explain.log.
 *
 * It starts a throw-away PostgreSQL, a Redis server and (for ours-mariadb) a MariaDB server, runs every (scenario, contender) in a fresh
 * child process under the same Node 22 runtime (the `node` devDependency of bench/), and prints
 * and writes (bench/results/) a table of medians with the spread across repetitions and the ratio
 * of ours to each peer within the run.
 */
import { spawn, execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMariadb, startPostgres, startRedis } from './lib/services.mjs';
import { measureCommitRate } from './lib/reference.mjs';
import { renderMarkdown } from './lib/report.mjs';
import { checkTargets, targetContenders, targetNeeds, targetScenarios } from './lib/check.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const flag = (name) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=')[1] ?? (args.includes(`--${name}`) ? true : undefined);
const quick = Boolean(flag('quick'));
const reps = Number(flag('reps') ?? (quick ? 1 : 3));
const POOL_SIZE = 10;

const sizes = quick
  ? { single: 2_000, bulk: 20_000, drain: 10_000, latency: 200, progress: 100_000, memory: 50_000, batches: 300, bigBatch: 3_000, capMs: 25_000, finished: 100_000, waiting: 10_000, memoryBig: 100_000 }
  : { single: 5_000, bulk: 50_000, drain: 20_000, latency: 500, progress: 100_000, memory: 200_000, batches: 1_000, bigBatch: 10_000, capMs: 30_000, finished: 1_000_000, waiting: 100_000, memoryBig: 1_000_000 };
const rows = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

/** Contenders; `worker: false` marks the variants that differ only in the worker (enqueue runs once per library). */
const CONTENDERS = [
  { id: 'ours-sqlite', contender: 'ours', db: 'sqlite', variant: 'default', label: 'ours SQLite', ours: true },
  { id: 'ours-pg', contender: 'ours', db: 'postgres', variant: 'default', label: 'ours PG', ours: true },
  { id: 'ours-mariadb', contender: 'ours', db: 'mariadb', variant: 'default', label: 'ours MariaDB', ours: true },
  { id: 'bullmq', contender: 'bullmq', db: 'redis', variant: 'default', label: 'BullMQ' },
  { id: 'pgboss', contender: 'pgboss', db: 'postgres', variant: 'default', label: 'pg-boss' },
  { id: 'pgboss-tuned', contender: 'pgboss', db: 'postgres', variant: 'tuned', label: 'pg-boss tuned', workerOnly: true },
  { id: 'graphile', contender: 'graphile', db: 'postgres', variant: 'default', label: 'graphile' },
  { id: 'graphile-tuned', contender: 'graphile', db: 'postgres', variant: 'tuned', label: 'graphile tuned', workerOnly: true },
];

const all = () => true;
const noWorkerOnly = (c) => !c.workerOnly;
const oursOnly = (c) => Boolean(c.ours);
const batchCapable = (c) => c.contender === 'ours' || c.contender === 'bullmq';
const SCENARIOS = [
  { id: 'enqSingle', label: 'Enqueue one by one (10 in flight), jobs/s', scenario: 'enqueue-single', better: 'higher', params: { count: sizes.single, inFlight: 10 }, who: noWorkerOnly },
  { id: 'enqBulk', label: 'Enqueue bulk (1,000 per call), jobs/s', scenario: 'enqueue-bulk', better: 'higher', params: { count: sizes.bulk }, who: noWorkerOnly },
  { id: 'drain10', label: `Drain ${sizes.drain.toLocaleString('en')} jobs, c=10, jobs/s`, scenario: 'drain', better: 'higher', params: { count: sizes.drain, concurrency: 10, capMs: sizes.capMs }, who: all },
  { id: 'drain50', label: `Drain ${sizes.drain.toLocaleString('en')} jobs, c=50, jobs/s`, scenario: 'drain', better: 'higher', params: { count: sizes.drain, concurrency: 50, capMs: sizes.capMs }, who: all },
  { id: 'latencyIn', label: `Start latency in-process (${sizes.latency} jobs, 5 ms apart), ms`, scenario: 'latency', better: 'lower', params: { count: sizes.latency, gapMs: 5, capMs: sizes.capMs, crossProcess: false }, who: all, percentiles: true },
  { id: 'latencyX', label: `Start latency cross-process (${sizes.latency} jobs, 5 ms apart), ms`, scenario: 'latency', better: 'lower', params: { count: sizes.latency, gapMs: 5, capMs: sizes.capMs, crossProcess: true }, who: all, percentiles: true },
  { id: 'progress', label: `${sizes.progress.toLocaleString('en')} updateProgress calls: extra wall time, ms`, scenario: 'progress', better: 'lower', params: { calls: sizes.progress, capMs: 120_000 }, who: (c) => c.contender === 'ours' || c.contender === 'bullmq' },
  // Queue control (ours only; compare with enqSingle / drain50 of the same run): unique dispatch, a c=50 drain over 100
  // concurrency keys (limit 1 each), and a rate-limited type's achieved start rate against its limit (200/s).
  { id: 'enqUnique', label: 'Enqueue unique jobs one by one (10 in flight), jobs/s', scenario: 'enqueue-single', better: 'higher', params: { count: sizes.single, inFlight: 10, job: 'unique' }, who: oursOnly },
  { id: 'drain50keys', label: `Drain ${sizes.drain.toLocaleString('en')} jobs over 100 concurrency keys (limit 1), c=50, jobs/s`, scenario: 'drain', better: 'higher', params: { count: sizes.drain, concurrency: 50, capMs: sizes.capMs, job: 'keys100' }, who: oursOnly },
  { id: 'rate200', label: 'Rate-limited type (200 starts/s), achieved starts/s', scenario: 'rate', better: 'higher', params: { count: quick ? 1200 : 2400, max: 200, concurrency: 50, capMs: 60_000, job: 'rate' }, who: oursOnly },
  // Workflows (opt-in: only with --only naming them): members completed per second until every batch has ended, ours
  // (`jobRunner.batch()`) against BullMQ `FlowProducer` flows of the same shape (a parent with the members as children).
  { id: 'batch10', label: `${sizes.batches.toLocaleString('en')} batches of 10 no-op members, c=10, members/s`, scenario: 'batch-drain', better: 'higher', params: { batches: sizes.batches, size: 10, concurrency: 10, capMs: sizes.capMs * 2 }, who: batchCapable, optIn: true },
  { id: 'batchBig', label: `One batch of ${sizes.bigBatch.toLocaleString('en')} no-op members, c=10, members/s`, scenario: 'batch-drain', better: 'higher', params: { batches: 1, size: sizes.bigBatch, concurrency: 10, capMs: sizes.capMs * 2 }, who: batchCapable, optIn: true },
  // Issue 19's heavy scenarios (opt-in: named by --only, or run by --check), ours against BullMQ.
  // Scale: a c=10 drain with the table full of finished jobs (and waiting workflow members) vs the
  // same drain on an empty table; an owner's page of jobs and the operator's stats, p95 (BullMQ: a
  // page of completed jobs, getJobCounts). Filled by bench/lib/fill, not by running the jobs.
  {
    id: 'scale', label: `Scale (${rows(sizes.finished)} finished jobs, ${rows(sizes.waiting)} waiting members)`, scenario: 'scale', better: 'higher',
    params: { count: sizes.drain, concurrency: 10, capMs: sizes.capMs, finished: sizes.finished, waiting: sizes.waiting, calls: 200 },
    who: batchCapable, optIn: true, maxReps: 1, timeoutMs: quick ? 600_000 : 3_600_000,
    metrics: [
      { key: 'value', label: `Scale: drain ${sizes.drain.toLocaleString('en')} jobs, c=10, ${rows(sizes.finished)} finished rows in the table, jobs/s`, better: 'higher' },
      { key: 'emptyRate', label: `Scale: the same drain on an empty table, jobs/s`, better: 'higher' },
      { key: 'ratio', label: 'Scale: full table ÷ empty table', better: 'higher', kind: 'x' },
      { key: 'listP95', label: "Scale: an owner's page of 20 jobs (list()), p95 ms", better: 'lower' },
      { key: 'statsP95', label: 'Scale: operator stats(), p95 ms', better: 'lower' },
    ],
  },
  // Prune under load: the same drain without and while the engine's prune deletes the old jobs.
  {
    id: 'pruneLoad', label: `Prune ${rows(sizes.finished)} old jobs under load`, scenario: 'prune-load', better: 'higher',
    params: { count: sizes.drain, concurrency: 10, capMs: quick ? 120_000 : 1_200_000, finished: sizes.finished },
    who: batchCapable, optIn: true, maxReps: 1, timeoutMs: quick ? 600_000 : 3_600_000,
    metrics: [
      { key: 'value', label: `Prune: drain ${sizes.drain.toLocaleString('en')} jobs, c=10, while pruning ${rows(sizes.finished)} old jobs, jobs/s`, better: 'higher' },
      { key: 'baseRate', label: 'Prune: the same drain without pruning, jobs/s', better: 'higher' },
      { key: 'ratio', label: 'Prune: while pruning ÷ without', better: 'higher', kind: 'x' },
      { key: 'longestMs', label: 'Prune: longest prune statement (PG) / write transaction (SQLite) / clean call (BullMQ), ms', better: 'lower' },
      { key: 'prunePerSec', label: 'Prune: jobs pruned per second', better: 'higher' },
    ],
  },
  // Memory over the big drain: RSS growth from 25% of the way to the end (after GC).
  {
    id: 'memory1M', label: `Worker RSS growth from 25% to 100% of draining ${sizes.memoryBig.toLocaleString('en')} jobs (c=10), MB`, scenario: 'memory', better: 'lower',
    params: { count: sizes.memoryBig, concurrency: 10, warmAt: 0.25, capMs: quick ? 180_000 : 1_500_000 },
    who: (c) => c.ours || c.id === 'bullmq', optIn: true, maxReps: 1,
  },
  { id: 'memory', label: `Worker RSS growth over the 2nd half of draining ${sizes.memory.toLocaleString('en')} jobs (c=10), MB`, scenario: 'memory', better: 'lower', params: { count: sizes.memory, concurrency: 10, capMs: quick ? 60_000 : 240_000 }, who: (c) => !['pgboss', 'graphile'].includes(c.id), maxReps: 1 },
];

const onlyScenarios = flag('only')?.split(',');
const onlyContenders = flag('contenders')?.split(',');
const check = flag('check');
// --check: the scenarios and contenders the targets name (unless --only / --contenders say otherwise).
const scenarios = SCENARIOS.filter((s) => (onlyScenarios ? onlyScenarios.includes(s.id) : check ? targetScenarios(SCENARIOS).includes(s) : !s.optIn));
const contenders = onlyContenders ? CONTENDERS.filter((c) => onlyContenders.includes(c.id)) : check ? targetContenders(CONTENDERS) : CONTENDERS;

if (typeof check === 'string') {
  // --check=<results.json>: the targets against a written run, without running anything.
  const { results: written } = JSON.parse(fs.readFileSync(path.resolve(check), 'utf8'));
  const ran = CONTENDERS.filter((c) => Object.values(written).some((byContender) => byContender[c.id]));
  const { text, missed, skipped } = checkTargets({ scenarios: SCENARIOS, contenders: ran, results: written });
  console.log(`Targets (bench/lib/targets.mjs) against ${check}:\n\n${text}\n\n${missed} missed, ${skipped} not run.`);
  process.exit(missed ? 1 : 0);
}

const node22 = path.join(here, 'node_modules', 'node', 'bin', 'node');
if (!fs.existsSync(node22)) throw new Error('bench/node_modules is missing: run `npm run bench` from the repository root (it installs them).');
if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: build the library first (npx tsc -p tsconfig.build.json).');

function versionOf(pkg, from = here) {
  try {
    let dir = path.dirname(createRequire(path.join(from, 'x.js')).resolve(pkg));
    while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== pkg) dir = path.dirname(dir);
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

function runChild(spec, timeoutMs) {
  return new Promise((resolve) => {
    const profile = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${path.join(here, '.work', 'profiles')}`, `--cpu-prof-name=${spec.contender}-${spec.db}-${spec.variant}-${spec.scenario}-${Date.now()}.cpuprofile`] : [];
    const child = spawn(node22, ['--expose-gc', ...profile, path.join(here, 'child.mjs'), JSON.stringify(spec)], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)));
      else {
        const lines = (err || out).trim().split('\n');
        const first = lines.find((l) => /Error\b/.test(l)); // the message, before its stack
        resolve({ error: `exit ${code}: ${[...(first && !lines.slice(-6).includes(first) ? [first] : []), ...lines.slice(-6)].join(' | ')}` });
      }
    });
  });
}

const machine = {
  cpu: os.cpus()[0]?.model ?? '?',
  cores: os.cpus().length,
  ramGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  loadAtStart: os.loadavg().map((l) => l.toFixed(2)).join(' '),
};

console.log(`Bench ${quick ? '(quick)' : '(full)'}: ${reps} repetition(s); ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB; load ${machine.loadAtStart}`);
const started = Date.now();
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'nmj-bench-'));
let pg;
let redis;
let mariadb;
const cleanup = async () => {
  await redis?.stop().catch(() => undefined);
  await mariadb?.stop().catch(() => undefined);
  await pg?.stop().catch(() => undefined);
  fs.rmSync(tmpRoot, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const results = {}; // results[scenarioId][contenderId] = [rep results]
let missedTargets = 0;
let reference;
try {
  const needsMariadb = contenders.some((c) => c.db === 'mariadb');
  [pg, redis, mariadb] = await Promise.all([
    startPostgres({ durable: Boolean(flag('durable')) }),
    startRedis(),
    needsMariadb ? startMariadb({ durable: Boolean(flag('durable')) }) : undefined,
  ]);
  const runtime = execSync(`"${node22}" --version`, { encoding: 'utf8' }).trim();
  console.log(`PostgreSQL ${pg.version} on :${pg.port}, Redis ${redis.version} on :${redis.port}${mariadb ? `, MariaDB ${mariadb.version} on :${mariadb.port}` : ''}; every contender runs under Node ${runtime} (bench/node_modules/node)`);

  const refDb = await pg.createDatabase();
  reference = flag('no-reference') ? { clients: POOL_SIZE, commitsPerSecond: NaN } : await measureCommitRate(pg, refDb, POOL_SIZE, quick ? 3000 : 5000);
  await pg.dropDatabase(refDb);
  console.log(`Reference: PostgreSQL single-row INSERT autocommits with ${POOL_SIZE} clients: ${Math.round(reference.commitsPerSecond)}/s`);

  const { Redis } = await import('ioredis');
  const redisClient = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  await redisClient.connect();

  for (let rep = 0; rep < reps; rep++) {
    for (const s of scenarios) {
      if (s.maxReps && rep >= s.maxReps) continue; // memory: one long run is enough (and saves ~6 min a repetition)
      // --check without --contenders: only the (scenario, contender) pairs a target compares.
      const who = contenders.filter((c) => s.who(c) && (!check || onlyContenders || targetNeeds(s.id, c, contenders)));
      // Rotate the order every repetition so drift on a shared machine does not favour anyone.
      const order = who.map((_, i) => who[(i + rep) % who.length]);
      for (const c of order) {
        const env = { poolSize: POOL_SIZE, tmp: fs.mkdtempSync(path.join(tmpRoot, 'run-')) };
        let db;
        if (c.db === 'postgres') {
          db = await pg.createDatabase();
          env.pg = { host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: db, url: pg.url(db) };
        } else if (c.db === 'mariadb') {
          db = await mariadb.createDatabase();
          env.mariadb = { host: mariadb.host, port: mariadb.port, user: mariadb.user, password: mariadb.password, database: db };
        } else if (c.db === 'sqlite') {
          env.sqliteFile = path.join(env.tmp, 'jobs.sqlite');
        } else {
          await redisClient.flushall();
          env.redis = { host: redis.host, port: redis.port };
        }
        const t = Date.now();
        const result = await runChild({ contender: c.contender, db: c.db, variant: c.variant, scenario: s.scenario, params: s.params, env }, s.timeoutMs ?? (s.params.capMs ?? 60_000) * 3 + 120_000);
        if (db) await (c.db === 'mariadb' ? mariadb : pg).dropDatabase(db).catch(() => undefined);
        fs.rmSync(env.tmp, { recursive: true, force: true });
        ((results[s.id] ??= {})[c.id] ??= []).push(result);
        const shown = result.error
          ? `ERROR ${result.error}`
          : s.percentiles
            ? `p50 ${result.p50?.toFixed(2)} p95 ${result.p95?.toFixed(2)} p99 ${result.p99?.toFixed(2)} ms (${result.received}/${s.params.count})`
            : s.scenario === 'scale'
              ? `${result.value?.toFixed(0)} jobs/s vs ${result.emptyRate?.toFixed(0)} on an empty table (${result.ratio?.toFixed(2)}×); list p95 ${result.listP95?.toFixed(2)} ms, stats p95 ${result.statsP95?.toFixed(2)} ms; filled ${result.finished} in ${result.fillS?.toFixed(1)} s (then ${JSON.stringify(result.table)})${result.waitingFillS != null ? `, ${result.waiting} waiting members in ${result.waitingFillS.toFixed(1)} s` : ''}${result.capped ? ' (capped)' : ''}`
              : s.scenario === 'prune-load'
                ? `${result.value?.toFixed(0)} jobs/s while pruning vs ${result.baseRate?.toFixed(0)} without (${result.ratio?.toFixed(2)}×); longest ${result.longestMs?.toFixed(1)} ms (client-timed: write ${result.longestClientWriteMs?.toFixed(1)} ms, any call ${result.longestClientCallMs?.toFixed(1)} ms${result.pgActivity ? `; pg_stat_activity: transaction ${result.pgActivity.pruneTransactionMs.toFixed(1)} ms, lock wait ${result.pgActivity.lockWaitMs.toFixed(1)} ms, ${result.pgActivity.samples} samples` : ''}); pruned ${result.pruned} in ${result.pruneS?.toFixed(1)} s${result.pruneCoveredDrain ? '' : ' (the prune ended before the drain did)'}; filled in ${result.fillS?.toFixed(1)} s (then ${JSON.stringify(result.table)})${result.capped ? ' (capped)' : ''}`
                : `${result.value?.toFixed(s.better === 'higher' ? 0 : 1)} ${result.unit}${result.capped ? ` (capped: ${result.done} done)` : ''}${s.scenario === 'memory' ? ` (${result.startRss.toFixed(0)} → ${result.warmRss.toFixed(0)} → ${result.endRss.toFixed(0)} MB; of the growth: anonymous ${result.growth.anonMB.toFixed(1)}, files ${result.growth.fileMB.toFixed(1)}, shmem ${result.growth.shmemMB.toFixed(1)}; JS heap used ${result.growth.heapMB.toFixed(1)} (committed ${result.growth.heapTotalMB.toFixed(1)}), external ${result.growth.externalMB.toFixed(1)} MB)` : ''}`;
        console.log(`[rep ${rep + 1}/${reps}] ${s.id.padEnd(10)} ${c.label.padEnd(15)} ${shown}  (${((Date.now() - t) / 1000).toFixed(1)} s)`);
      }
    }
  }
  await redisClient.quit();

  const meta = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command: `npm run bench${quick || check ? ` --${quick ? ' --quick' : ''}${check ? ' --check' : ''}` : ''}`,
    args,
    reps,
    sizes,
    poolSize: POOL_SIZE,
    durable: Boolean(flag('durable')),
    machine,
    durationS: Math.round((Date.now() - started) / 1000),
    versions: {
      runtime: execSync(`"${node22}" --version`, { encoding: 'utf8' }).trim(),
      orchestrator: process.version,
      ours: `${JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version} (${gitRev()})`,
      bullmq: versionOf('bullmq'),
      'pg-boss': versionOf('pg-boss'),
      'graphile-worker': versionOf('graphile-worker'),
      ioredis: versionOf('ioredis'),
      typeorm: versionOf('typeorm', root),
      'better-sqlite3': versionOf('better-sqlite3', root),
      pg: versionOf('pg', root),
      '@nestjs/core': versionOf('@nestjs/core', root),
      postgresql: pg.version,
      redis: redis.version,
      ...(mariadb ? { mariadb: mariadb.version, mysql2: versionOf('mysql2', root) } : {}),
    },
    reference,
  };
  let md = renderMarkdown({ meta, scenarios, contenders, results });
  console.log('\n' + md);
  if (check) {
    const { text, missed, skipped } = checkTargets({ scenarios: SCENARIOS, contenders, results });
    const summary = `${missed} missed, ${skipped} not run.`;
    md += `\nTargets (bench/lib/targets.mjs; >1× = ours better):\n\n${text}\n\n${summary}\n`;
    console.log(`Targets (bench/lib/targets.mjs; >1× = ours better):\n\n${text}\n\n${summary}`);
    missedTargets = missed;
  }
  if (!flag('no-write')) {
    const stamp = meta.date.slice(0, 16).replace(/[:T]/g, (m) => (m === 'T' ? '_' : '')) + (quick ? '-quick' : '');
    const dir = path.join(here, 'results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${stamp}.md`), md);
    fs.writeFileSync(path.join(dir, `${stamp}.json`), JSON.stringify({ meta, results }, null, 2));
    console.log(`Written to bench/results/${stamp}.md and .json`);
  }
} finally {
  await cleanup();
}
// Explicitly: a server library's exit hook would otherwise end the process with 0.
process.exit(missedTargets ? 1 : 0);

function gitRev() {
  try {
    const rev = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- lib', { cwd: root, encoding: 'utf8' }).trim() ? '+lib changes' : '';
    return rev + (dirty ? ` ${dirty}` : '');
  } catch {
    return 'no git';
  }
}
