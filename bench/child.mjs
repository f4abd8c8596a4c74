/**
 * Runs ONE scenario for ONE contender in a fresh process and prints `RESULT <json>` last.
 * Started by run.mjs (never by hand): argv[2] is the JSON spec
 * { contender, db, variant, scenario, params, env }.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const spec = JSON.parse(process.argv[2]);
const { scenario, params, env } = spec;
if (params.job === 'rate') process.env.NMJ_BENCH_RATE_MAX = String(params.max); // read by ours.mjs when it loads
const mod = await import(`./lib/contenders/${spec.contender}.mjs`);
const now = () => performance.timeOrigin + performance.now();
const open = (worker) => mod.open({ db: spec.db, variant: spec.variant, env, worker, job: params.job, batches: scenario === 'batch-drain' });

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function bulkEnqueue(q, n, offset = 0) {
  for (let i = 0; i < n; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.push({ i: offset + j });
    await q.enqueueBulk(batch);
  }
}

/** Polls the contender's own record until `n` jobs are completed (or the deadline); `since`: see `timedDrain`. */
async function waitDone(q, n, deadline, intervalMs = 10, since = undefined, base = 0) {
  for (;;) {
    const done = (await q.countDone(n, since)) - base;
    if (done >= n || now() > deadline) return done;
    await sleep(intervalMs);
  }
}

/**
 * A worker of `params.concurrency` no-op handlers on the queued jobs, returned once `n` handlers
 * started (or the cap passed). `t0`: the first handler call (0 if none); `deadline`: `t0` plus the
 * cap; `cpu0`: this process's CPU at the first call. `onFirstCall()` is called at the first call.
 */
async function workUntilStarted(n, onFirstCall) {
  let started = 0;
  let t0 = 0;
  let first;
  const firstCall = new Promise((r) => (first = r));
  const q = await open({
    concurrency: params.concurrency,
    handler: async () => {
      if (started++ === 0) {
        t0 = now();
        first();
        onFirstCall?.();
      }
    },
  });
  await Promise.race([firstCall, sleep(params.capMs)]);
  const cpu0 = process.cpuUsage();
  const deadline = (t0 || now()) + params.capMs;
  while (started < n && now() < deadline) await sleep(20);
  return { q, t0, deadline, cpu0 };
}

/**
 * Enqueues `n` no-op jobs through `producer`, then drains them with a fresh worker (`workUntilStarted`):
 * jobs/s from the first handler call to the last recorded completion. Only completions from this
 * drain count (ours: job ids from `since` on, one range of an index; BullMQ: finished since; others: their count minus the
 * count before), so a table of a million finished rows is never counted. `whileDraining()` is
 * started at the first handler call (the drain's clock starts there too).
 */
async function timedDrain(producer, n, whileDraining) {
  const since = Date.now();
  const base = await producer.countDone(0, since);
  await bulkEnqueue(producer, n);
  global.gc?.(); // the enqueue's garbage is not the drain's
  let side;
  const { q, t0, deadline, cpu0 } = await workUntilStarted(n, whileDraining && (() => (side = whileDraining())));
  const done = await waitDone(q, n, deadline, 10, since, base);
  const ms = now() - t0;
  const end = now();
  const cpu = process.cpuUsage(cpu0);
  await q.close();
  return { rate: t0 ? (done / ms) * 1000 : 0, ms, done, capped: done < n, end, side, cpu: (cpu.user + cpu.system) / 1000 / ms };
}

/** Linux: RSS split into anonymous memory, mapped files and shared memory, MB (NaN elsewhere). */
function rssKinds() {
  let status = '';
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {}
  const kb = (name) => Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))?.[1] ?? NaN) / 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}

/** `count` sequential calls of `fn`: p50 / p95 / max, ms. */
async function timeCalls(count, fn) {
  const ms = [];
  for (let i = 0; i < count; i++) {
    const t = now();
    await fn(i);
    ms.push(now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms[ms.length - 1] };
}

/**
 * PostgreSQL only: samples pg_stat_activity of the run's database every ~5 ms from its own
 * connection, and keeps the longest statement of the prune seen running (its SQL names
 * `make_interval(days`), the longest open transaction of the prune, and the longest wait of any
 * statement on a lock. A lower bound (a statement shorter than the interval may be missed),
 * measured by the server, without the client's round trip or pool wait.
 */
async function samplePgActivity(pgEnv) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ host: pgEnv.host, port: pgEnv.port, user: pgEnv.user, password: pgEnv.password, database: pgEnv.database });
  await c.connect();
  const seen = { pruneStatementMs: 0, pruneTransactionMs: 0, lockWaitMs: 0, samples: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await c.query(`SELECT query, wait_event_type,
          extract(epoch FROM clock_timestamp() - query_start) * 1000 AS q, extract(epoch FROM clock_timestamp() - xact_start) * 1000 AS x
        FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state NOT IN ('idle')`);
      seen.samples++;
      for (const r of rows) {
        if (r.query.includes('make_interval(days')) {
          seen.pruneStatementMs = Math.max(seen.pruneStatementMs, Number(r.q));
          seen.pruneTransactionMs = Math.max(seen.pruneTransactionMs, Number(r.x));
        }
        if (r.wait_event_type === 'Lock') seen.lockWaitMs = Math.max(seen.lockWaitMs, Number(r.q));
      }
      await sleep(5);
    }
  })();
  return async () => {
    running = false;
    await loop;
    await c.end();
    return seen;
  };
}

function produceTimed(q, count, gapMs) {
  // Dispatch ~gapMs apart without waiting for the previous dispatch (a steady arrival rate).
  return new Promise((resolve, reject) => {
    let sent = 0;
    const pending = [];
    const tick = () => {
      pending.push(q.enqueue({ t: now() }).catch(reject));
      if (++sent >= count) return void Promise.all(pending).then(resolve, reject);
      setTimeout(tick, gapMs);
    };
    tick();
  });
}

const scenarios = {
  /** One by one, `inFlight` at a time. */
  async 'enqueue-single'() {
    const q = await open();
    for (let i = 0; i < 50; i++) await q.enqueue({ warm: i });
    global.gc?.(); // the start-up's garbage is not the enqueue's
    const n = params.count;
    let next = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: params.inFlight }, async () => {
        while (next < n) {
          next++;
          await q.enqueue({ i: next });
        }
      }),
    );
    const ms = now() - t0;
    await q.close();
    return { value: (n / ms) * 1000, unit: 'jobs/s', ms };
  },
  /** `batch` jobs per call, calls one after another. */
  async 'enqueue-bulk'() {
    const q = await open();
    await q.enqueueBulk([{ warm: 1 }, { warm: 2 }]);
    global.gc?.(); // the start-up's garbage is not the enqueue's
    const t0 = now();
    await bulkEnqueue(q, params.count);
    const ms = now() - t0;
    await q.close();
    return { value: (params.count / ms) * 1000, unit: 'jobs/s', ms };
  },
  /** Drain `count` pre-enqueued no-op jobs; the clock runs from the first handler call to the last recorded completion. */
  async drain() {
    const producer = await open();
    const r = await timedDrain(producer, params.count);
    await producer.close();
    // cpu: share of one core this process used while draining (the database's CPU is not in it).
    return { value: r.rate, unit: 'jobs/s', ms: r.ms, done: r.done, capped: r.capped, cpu: r.cpu };
  },
  /**
   * Scale (opt-in): the same c=`concurrency` drain of `count` jobs on an (almost) empty table, then
   * after filling it with `finished` finished jobs (bench/lib/fill: realistic rows, bulk-written) and
   * `waiting` waiting workflow members (ours: written by `jobRunner.batch()`); then, idle, an
   * owner's page of jobs (`list()`, 20 newest of one of the owners) and the operator's `stats()`,
   * `calls` times each. Peers do the closest thing they have (see their contender files).
   */
  async scale() {
    const producer = await open();
    await timedDrain(producer, Math.min(500, params.count)); // warm-up (JIT, caches, pools): the empty-table drain must not pay it
    const empty = await timedDrain(producer, params.count);
    const owners = Math.max(1, Math.round(params.finished / 100));
    const nowMs = Date.now();
    const fill = await producer.fillFinished({ count: params.finished, fromMs: nowMs - 30 * 86_400_000, toMs: nowMs - 3_600_000, owners });
    const waitingMs = params.waiting && producer.fillWaiting ? await producer.fillWaiting({ members: params.waiting, owners }) : null;
    const full = await timedDrain(producer, params.count);
    const list = await timeCalls(params.calls, (i) => producer.listOwner(`user-${(i * 7919) % owners}`));
    const stats = await timeCalls(Math.ceil(params.calls / 2), () => producer.stats());
    await producer.close();
    return {
      value: full.rate, emptyRate: empty.rate, ratio: full.rate / empty.rate, listP95: list.p95, listP50: list.p50, statsP95: stats.p95, statsP50: stats.p50,
      finished: params.finished, waiting: waitingMs === null ? 0 : params.waiting, fillS: fill.ms / 1000, table: fill.table, waitingFillS: waitingMs === null ? null : waitingMs / 1000,
      done: full.done, capped: full.capped || empty.capped, unit: 'jobs/s',
    };
  },
  /**
   * Prune under load (opt-in): a table of `finished` jobs that finished 10 to 60 days ago; a c=`concurrency`
   * drain of `count` jobs without pruning, then the same drain while the engine's own prune
   * (ours: `ManagedJobsMaintenanceService.pruneFinished(7)`; BullMQ: `queue.clean`) deletes them all.
   * `longestMs`: PostgreSQL, the longest prune statement seen in pg_stat_activity; SQLite, the
   * longest prune write transaction (timed around the store call); BullMQ, the longest `clean` call.
   */
  async 'prune-load'() {
    const producer = await open();
    await timedDrain(producer, Math.min(500, params.count)); // warm-up, and the template row
    const nowMs = Date.now();
    const fill = await producer.fillFinished({ count: params.finished, fromMs: nowMs - 60 * 86_400_000, toMs: nowMs - 10 * 86_400_000, owners: Math.max(1, Math.round(params.finished / 100)) });
    const base = await timedDrain(producer, params.count);
    const sampler = spec.db === 'postgres' ? await samplePgActivity(env.pg) : null;
    let pruneEnd = 0;
    const t = now();
    const loaded = await timedDrain(producer, params.count, () =>
      producer.prune(7).then((r) => {
        pruneEnd = now();
        return r;
      }),
    );
    const pruned = await Promise.race([loaded.side, sleep(params.capMs).then(() => null)]);
    const pruneMs = (pruneEnd || now()) - t;
    const activity = sampler ? await sampler() : null;
    await producer.close();
    if (!pruned) throw new Error(`prune did not finish within ${params.capMs} ms`);
    const longest = (names) => Math.max(0, ...pruned.statements.filter((s) => !names || names.includes(s.name)).map((s) => s.ms));
    const clientWriteMs = longest(spec.contender === 'ours' ? ['pruneFinished'] : null);
    return {
      value: loaded.rate, baseRate: base.rate, ratio: loaded.rate / base.rate,
      longestMs: activity ? activity.pruneStatementMs : clientWriteMs,
      longestClientCallMs: longest(), longestClientWriteMs: clientWriteMs, pgActivity: activity,
      pruned: pruned.pruned, pruneS: pruneMs / 1000, prunePerSec: (pruned.pruned / pruneMs) * 1000, statements: pruned.statements.length,
      pruneCoveredDrain: pruneEnd === 0 || pruneEnd >= loaded.end, fillS: fill.ms / 1000, table: fill.table,
      done: loaded.done, capped: loaded.capped || base.capped, unit: 'jobs/s',
    };
  },
  /**
   * `batches` batches of `size` no-op members, queued beforehand, 10 batches in flight (ours:
   * `jobRunner.batch()`; BullMQ: a `FlowProducer` parent with `size` children). The clock runs
   * from the first member's handler call until every batch has ended (ours: the batch row
   * `completed`; BullMQ: the parent job completed): members/s = batches × size / that time.
   */
  async 'batch-drain'() {
    const { batches, size } = params;
    const n = batches * size;
    const producer = await open();
    let next = 0;
    const e0 = now();
    await Promise.all(
      Array.from({ length: Math.min(10, batches) }, async () => {
        while (next < batches) {
          const b = next++;
          await producer.enqueueBatch(Array.from({ length: size }, (_, j) => ({ i: b * size + j })));
        }
      }),
    );
    const enqueueMs = now() - e0;
    await producer.close();
    const { q, t0, deadline } = await workUntilStarted(n);
    let ended;
    while ((ended = await q.countBatchesDone()) < batches && now() < deadline) await sleep(10);
    const ms = now() - t0;
    const done = ended >= batches ? n : await q.countDone(n);
    await q.close();
    return { value: t0 ? (done / ms) * 1000 : 0, unit: 'members/s', ms, done, batchesEnded: ended, capped: ended < batches, enqueueMembersPerSec: (n / enqueueMs) * 1000 };
  },
  /**
   * A rate-limited job type (`rateLimit: { max: params.max, perSeconds: 1 }`, ours only): `count`
   * pre-enqueued no-op jobs; the achieved start rate after the first window, from the handlers'
   * start times: (starts after the first `max`) / (last start − first start).
   */
  async rate() {
    const n = params.count;
    const producer = await open();
    await bulkEnqueue(producer, n);
    await producer.close();
    const starts = [];
    const q = await open({ concurrency: params.concurrency, handler: async () => void starts.push(now()) });
    const deadline = now() + params.capMs;
    while (starts.length < n && now() < deadline) await sleep(20);
    await q.close();
    const ms = starts[starts.length - 1] - starts[0];
    const value = ((starts.length - params.max) / ms) * 1000;
    return { value, unit: 'starts/s', limit: params.max, ratio: value / params.max, ms, done: starts.length, capped: starts.length < n };
  },
  /** Idle worker; jobs dispatched `gapMs` apart (here or from another process); dispatch → handler start. */
  async latency() {
    const lat = [];
    let got;
    const all = new Promise((r) => (got = r));
    const q = await open({
      concurrency: 10,
      handler: async (data) => {
        if (typeof data?.t === 'number') {
          lat.push(now() - data.t);
          if (lat.length >= params.count) got();
        }
      },
    });
    await sleep(1500); // let the worker go idle (blocking pop / LISTEN / poll)
    if (params.crossProcess) {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify({ ...spec, scenario: 'produce-timed' })], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', (code) => code && console.error(`producer exited with ${code}`));
    } else {
      await produceTimed(q, params.count, params.gapMs);
    }
    await Promise.race([all, sleep(params.capMs)]);
    await q.close();
    const s = lat.sort((a, b) => a - b);
    return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), received: s.length, unit: 'ms' };
  },
  async 'produce-timed'() {
    const q = await open();
    await sleep(300);
    await produceTimed(q, params.count, params.gapMs);
    await q.close();
    return {};
  },
  async 'produce-bulk'() {
    const q = await open();
    await bulkEnqueue(q, params.count);
    await q.close();
    return {};
  },
  /** A job that calls updateProgress `calls` times vs one that doesn't, dispatch → completion recorded. */
  async progress() {
    const q = await open({
      concurrency: 1,
      handler: async (data, progress) => {
        if (data.calls) for (let i = 1; i <= data.calls; i++) await progress(Math.floor((i * 100) / data.calls));
      },
    });
    await sleep(500);
    const timeOne = async (data, expected) => {
      const t0 = now();
      await q.enqueue(data);
      await waitDone(q, expected, now() + params.capMs, 2);
      return now() - t0;
    };
    await timeOne({ calls: 0 }, 1); // warm-up
    const plain = await timeOne({ calls: 0 }, 2);
    const withProgress = await timeOne({ calls: params.calls }, 3);
    await q.close();
    return { value: withProgress - plain, plainMs: plain, withProgressMs: withProgress, unit: 'ms' };
  },
  /** RSS of a worker draining `count` jobs (enqueued by another process), after GC: idle start, at `warmAt` of the way (default half), end. */
  async memory() {
    const n = params.count;
    await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify({ ...spec, scenario: 'produce-bulk' })], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', (code) => (code ? reject(new Error(`producer exited with ${code}`)) : resolve()));
    });
    let started = 0;
    let startRss = 0;
    let release;
    const gate = new Promise((r) => (release = r));
    const mb = () => process.memoryUsage().rss / 2 ** 20;
    const q = await open({
      concurrency: params.concurrency,
      handler: async () => {
        if (started++ === 0) await gate; // the first job waits until the start is measured
      },
    });
    await sleep(200);
    global.gc?.();
    startRss = mb();
    const startHeap = process.memoryUsage().heapUsed / 2 ** 20;
    release();
    let peak = startRss;
    const samples = [];
    const t0 = now();
    const sampler = setInterval(() => {
      const r = mb();
      peak = Math.max(peak, r);
      samples.push(Math.round(r));
    }, 1000);
    // Growth is measured from `warmAt` (default half-way) to the end: going from idle to busy grows
    // every runtime's heap, allocator and caches once, up to a plateau (ours: SQLite's page caches,
    // 16 MB per connection, fill up over the first ~75,000 jobs); a leak keeps growing after that, at
    // the same rate. The marks are counted from the handler calls (polling a count of a table that
    // grows to a million rows would cost more than the work measured); the end is the recorded count.
    const deadline = now() + params.capMs;
    const warmAt = Math.ceil(n * (params.warmAt ?? 0.5));
    while (started < warmAt && now() < deadline) await sleep(100);
    global.gc?.();
    const warmRss = mb();
    const warmMem = process.memoryUsage();
    const warmKinds = rssKinds();
    while (started < n && now() < deadline) await sleep(100);
    // The end is measured once every handler ran, before the count that waits for the last
    // completions: that count reads every completed row through the app's own connection, inside
    // the process measured (on SQLite its page cache added 5–7 MB to the worker's RSS), and the
    // split of the growth is read here too, not after `q.close()` freed the app (issue 19).
    await sleep(200);
    global.gc?.();
    const endRss = mb();
    const endMem = process.memoryUsage();
    const endHeap = endMem.heapUsed / 2 ** 20;
    // Where a growth lives: the JS heap, or outside it (external: Buffers and native objects known to V8; the rest: native allocations).
    const endKinds = rssKinds();
    const done = await waitDone(q, n, deadline, 100);
    clearInterval(sampler);
    const ms = now() - t0;
    await q.close();
    const growth = { anonMB: endKinds.anon - warmKinds.anon, fileMB: endKinds.file - warmKinds.file, shmemMB: endKinds.shmem - warmKinds.shmem, heapTotalMB: (endMem.heapTotal - warmMem.heapTotal) / 2 ** 20, heapMB: (endMem.heapUsed - warmMem.heapUsed) / 2 ** 20, externalMB: (endMem.external - warmMem.external) / 2 ** 20, arrayBuffersMB: (endMem.arrayBuffers - warmMem.arrayBuffers) / 2 ** 20 };
    return { growth, startRss, warmRss, endRss, value: endRss - warmRss, peakRss: peak, startHeap, endHeap, done, capped: done < n, ms, samples, unit: 'MB' };
  },
};

try {
  const result = await scenarios[scenario]();
  process.stdout.write(`\nRESULT ${JSON.stringify({ ...result, node: process.version })}\n`);
  process.exit(0);
} catch (error) {
  console.error(error?.stack ?? error);
  process.exit(1);
}
