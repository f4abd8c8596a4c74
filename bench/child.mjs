/**
 * Runs ONE scenario for ONE contender in a fresh process and prints `RESULT <json>` last.
 * Started by run.mjs (never by hand): argv[2] is the JSON spec
 * { contender, db, variant, scenario, params, env }.
 */
import { spawn } from 'node:child_process';
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

/** Polls the contender's own record until `n` jobs are completed (or the deadline). */
async function waitDone(q, n, deadline, intervalMs = 10) {
  for (;;) {
    const done = await q.countDone(n);
    if (done >= n || now() > deadline) return done;
    await sleep(intervalMs);
  }
}

/**
 * A worker of `params.concurrency` no-op handlers on the queued jobs, returned once `n` handlers
 * started (or the cap passed). `t0`: the first handler call (0 if none); `deadline`: `t0` plus the
 * cap; `cpu0`: this process's CPU at the first call.
 */
async function workUntilStarted(n) {
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
      }
    },
  });
  await Promise.race([firstCall, sleep(params.capMs)]);
  const cpu0 = process.cpuUsage();
  const deadline = (t0 || now()) + params.capMs;
  while (started < n && now() < deadline) await sleep(20);
  return { q, t0, deadline, cpu0 };
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
    const t0 = now();
    await bulkEnqueue(q, params.count);
    const ms = now() - t0;
    await q.close();
    return { value: (params.count / ms) * 1000, unit: 'jobs/s', ms };
  },
  /** Drain `count` pre-enqueued no-op jobs; the clock runs from the first handler call to the last recorded completion. */
  async drain() {
    const n = params.count;
    const producer = await open();
    await bulkEnqueue(producer, n);
    await producer.close();
    const { q, t0, deadline, cpu0 } = await workUntilStarted(n);
    const done = await waitDone(q, n, deadline);
    const ms = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await q.close();
    // cpu: share of one core this process used while draining (the database's CPU is not in it).
    return { value: t0 ? (done / ms) * 1000 : 0, unit: 'jobs/s', ms, done, capped: done < n, cpu: (cpu.user + cpu.system) / 1000 / ms };
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
  /** RSS of a worker draining `count` jobs (enqueued by another process), after GC: idle start, half-way, end. */
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
    // Growth is measured over the second half: going from idle to busy grows every runtime's heap,
    // allocator and caches once, up to a plateau (ours: SQLite's page caches, 16 MB per connection,
    // fill up over the first ~75,000 jobs); a leak keeps growing after that, at the same rate.
    const deadline = now() + params.capMs;
    await waitDone(q, Math.ceil(n / 2), deadline, 100);
    global.gc?.();
    const warmRss = mb();
    const done = await waitDone(q, n, deadline, 100);
    clearInterval(sampler);
    const ms = now() - t0;
    await sleep(200);
    global.gc?.();
    const endRss = mb();
    const endHeap = process.memoryUsage().heapUsed / 2 ** 20;
    await q.close();
    return { startRss, warmRss, endRss, value: endRss - warmRss, peakRss: peak, startHeap, endHeap, done, capped: done < n, ms, samples, unit: 'MB' };
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
