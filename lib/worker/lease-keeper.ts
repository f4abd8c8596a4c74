/**
 * The lease keeper renews the leases of this process's runs from a worker thread with its own
 * database connection (issue 11, bug 5). Renewed from the event loop, a handler that blocked it
 * (CPU-bound work) for longer than `leaseMs` let its lease run out: another process's reaper took
 * the job and ran it a second time while the first run went on. The process is alive, so its
 * leases live; a process that dies (kill -9) takes the thread with it and the reaper recovers its
 * jobs as before. A frozen process (SIGSTOP) freezes the thread too.
 *
 * The event loop renews every `heartbeatIntervalMs` with one statement, as before (on the store's
 * own connection: on SQLite a second writer would contend for the file lock with every claim, which
 * put milliseconds on the start latency's tail), and reports the runs no longer owned (stopped
 * elsewhere, reaped), whose ctx the worker aborts. After each renewal it sends the thread a beat.
 * The thread is the watchdog: it knows the runs held (`hold`: once per claimed batch, before any
 * handler of it runs; ended runs ride along) and renews them itself, with the store's renew builder
 * (see `JobStore.leaseRenewal`), only while no beat came for `THREAD_TAKES_OVER` intervals: the loop
 * is blocked (a CPU-bound handler) or its renewals fail.
 *
 * A store without `leaseRenewal`, or a thread that cannot start or dies, leaves the loop alone (as
 * before the thread), with a warning.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from '@nestjs/common';
import { LEASE_KEEPER_ON_LOOP, LEASE_RENEWAL_FAILED } from '../managed-jobs.messages.js';
import type { JobStore, LeaseRenewalTarget, RunRef } from '../store/job-store.interface.js';
import { withTimeout } from './in-flight.js';
import { LEASE_KEEPER_THREAD } from './lease-keeper.thread.js';

/** The run the renew statement is built for; the thread puts its runs in its place. */
const MARKER: RunRef = { jobId: '\u0000lease-keeper-run', fence: -1 };
/** How long the thread gets to close its connection at shutdown before it is terminated. */
const CLOSE_TIMEOUT_MS = 2000;
/**
 * Heartbeat intervals without a beat after which the thread renews. It checks twice per interval,
 * so it renews at most ~1.7 intervals after the loop's last renewal: inside the shortest lease the
 * options allow (two intervals).
 */
const THREAD_TAKES_OVER = 1.2;

export interface LeaseKeeperDeps {
  store: JobStore;
  logger: Logger;
  workerId: string;
  leaseMs: number;
  intervalMs: number;
  /** Runs whose job is no longer theirs (stopped elsewhere, reaped, reassigned). */
  onLost: (runs: RunRef[]) => void;
}

type ThreadMessage = { lost?: [string[], number[]]; warn?: string };

export class LeaseKeeper {
  /** jobId → fence of every run held, from its claim until its outcome is written or it is handed back. */
  private readonly held = new Map<string, number>();
  private thread?: Worker;
  private loopTimer?: NodeJS.Timeout;
  private loopRenewal?: Promise<void>;
  /** Runs released since the last message to the thread. */
  private dropped: [string[], number[]] = [[], []];
  private stopping = false;

  constructor(private readonly deps: LeaseKeeperDeps) {}

  /** Whether leases are renewed off the event loop. */
  get threaded(): boolean {
    return this.thread !== undefined;
  }

  start(): void {
    try {
      this.thread = this.spawn();
    } catch (error) {
      this.deps.logger.warn(LEASE_KEEPER_ON_LOOP((error as Error).message));
    }
    this.renewOnLoop();
  }

  /** Runs that just started (before their handlers run: one may block the loop right away). */
  hold(runs: readonly RunRef[]): void {
    for (const run of runs) this.held.set(run.jobId, run.fence);
    if (!this.thread) return;
    // The runs that ended since the last message ride along: one message per claimed batch.
    this.thread.postMessage({ hold: [runs.map((r) => r.jobId), runs.map((r) => r.fence)], drop: this.dropped });
    this.dropped = [[], []];
  }

  /**
   * A run whose outcome is written (or that was handed back): its lease is no longer renewed. The
   * thread learns it with the next `hold`; until then it may renew the run once more, which
   * changes nothing (the job no longer runs under that fence) and reports it not owned, which
   * the executor ignores (the run is no longer running here).
   */
  release(run: RunRef): void {
    if (this.held.get(run.jobId) !== run.fence) return;
    this.held.delete(run.jobId);
    if (!this.thread) return;
    this.dropped[0].push(run.jobId);
    this.dropped[1].push(run.fence);
  }

  /** After the shutdown handed every run back: stop renewing, close the thread's connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.loopTimer);
    await this.loopRenewal;
    this.held.clear();
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    thread.postMessage({ close: true });
    await withTimeout(exited, CLOSE_TIMEOUT_MS);
    await thread.terminate(); // resolves at once when it already exited
  }

  private spawn(): Worker | undefined {
    const { store, workerId, leaseMs, intervalMs, logger } = this.deps;
    const target = store.leaseRenewal?.(MARKER, workerId, leaseMs);
    if (!target || !marks(target.statement.values)) {
      logger.warn(LEASE_KEEPER_ON_LOOP(target ? 'the renew statement does not take the run as expected' : `the ${store.dialect} store has no thread renewal`));
      return undefined;
    }
    const thread = new Worker(LEASE_KEEPER_THREAD, {
      eval: true,
      workerData: {
        driver: target.driver,
        driverPath: driverPath(target),
        connection: cloneable(target.connection),
        statement: target.statement,
        marker: MARKER,
        intervalMs,
        staleMs: Math.round(THREAD_TAKES_OVER * intervalMs),
        // A renewal that hangs (a half-open connection) must fail in time for the loop to step in.
        timeoutMs: Math.ceil(leaseMs / 2),
      },
    });
    thread.unref(); // as the heartbeat timer was: the poll timer is what keeps a worker process alive
    thread.on('message', (message: ThreadMessage) => this.onMessage(message));
    thread.on('error', (error) => this.threadDown(error.message));
    thread.on('exit', (code) => this.threadDown(`the lease keeper thread exited with code ${code}`));
    return thread;
  }

  private onMessage(message: ThreadMessage): void {
    if (message.warn) this.deps.logger.warn(LEASE_RENEWAL_FAILED(`lease keeper thread: ${message.warn}`));
    if (!message.lost) return;
    const [ids, fences] = message.lost;
    this.deps.onLost(ids.map((jobId, i) => ({ jobId, fence: fences[i] })));
  }

  /** The thread failed (its driver did not load, it crashed): the loop renews alone from now on. */
  private threadDown(reason: string): void {
    if (this.stopping || !this.thread) return;
    this.thread = undefined;
    this.dropped = [[], []];
    this.deps.logger.warn(LEASE_KEEPER_ON_LOOP(reason));
  }

  private renewOnLoop(): void {
    this.loopTimer = setInterval(() => {
      this.loopRenewal ??= this.renewHeld().finally(() => (this.loopRenewal = undefined));
    }, this.deps.intervalMs);
    this.loopTimer.unref();
  }

  /** The loop's renewal; a beat tells the thread it need not step in (only after a success). */
  private async renewHeld(): Promise<void> {
    const runs: RunRef[] = [...this.held].map(([jobId, fence]) => ({ jobId, fence }));
    const { store, workerId, leaseMs } = this.deps;
    try {
      if (runs.length) {
        const owned = new Set((await store.renewLeases(runs, workerId, leaseMs)).map((r) => `${r.jobId}:${r.fence}`));
        const lost = runs.filter((r) => !owned.has(`${r.jobId}:${r.fence}`));
        if (lost.length) this.deps.onLost(lost);
      }
      this.thread?.postMessage({ beat: true });
    } catch (error) {
      this.deps.logger.warn(LEASE_RENEWAL_FAILED((error as Error).message));
    }
  }
}

/**
 * Where the thread loads the driver from: the very module the data source uses when Node's
 * module cache has it (an app may hand TypeORM its own copy, as the bench does), else the copy
 * TypeORM itself would load (from its own folder, then from the working directory's node_modules;
 * under jest, whose module registry is not Node's cache).
 */
function driverPath(target: LeaseRenewalTarget): string {
  const require = createRequire(import.meta.url);
  for (const [file, module] of Object.entries(require.cache)) if (module?.exports === target.driverModule) return file;
  const bases = [() => require.resolve('typeorm'), () => path.join(process.cwd(), 'index.js')];
  for (const base of bases) {
    try {
      return createRequire(base()).resolve(target.driver);
    } catch {
      // next place
    }
  }
  return require.resolve(target.driver);
}

/** Whether the statement built for MARKER names its job id and fence (scalars, or arrays of one). */
function marks(values: unknown[]): boolean {
  const scalars = values.map((v) => (Array.isArray(v) && v.length === 1 ? v[0] : v));
  return scalars.includes(MARKER.jobId) && scalars.includes(MARKER.fence);
}

/** Connection options without what cannot cross to a thread (functions: custom streams, callbacks). */
function cloneable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneable);
  if (!value || typeof value !== 'object' || Buffer.isBuffer(value) || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v !== 'function') out[key] = cloneable(v);
  return out;
}
