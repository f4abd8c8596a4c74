/**
 * The lease keeper renews the leases of this process's runs (issue 11, bug 5). Renewed from the
 * event loop alone, a handler that blocked it (CPU-bound work) for longer than `leaseMs` let its
 * lease run out: another process's reaper took the job and ran it a second time while the first
 * run went on. The process is alive, so its leases live; a process that dies (kill -9) takes the
 * thread with it and the reaper recovers its jobs as before. A frozen process (SIGSTOP) freezes the
 * thread too.
 *
 * The event loop renews every `heartbeatIntervalMs` with one statement, on the store's own
 * connection (on SQLite a second writer would contend for the file lock with every claim), and
 * reports the runs no longer owned (stopped elsewhere, reaped), whose ctx the worker aborts.
 *
 * A worker thread with a connection of its own is the watchdog. It shares two numbers with the
 * loop (a SharedArrayBuffer, so the hot path sends no message): when the loop last renewed, and how
 * many runs are held. While runs are held and the loop has not renewed for `THREAD_TAKES_OVER`
 * intervals (it is blocked, or its renewals fail), the thread renews every run this worker owns,
 * by owner (`JobStore.leaseRenewal`): it needs no list of runs. The loop reports lost runs once it
 * runs again.
 *
 * A store without `leaseRenewal`, or a thread that cannot start or dies, leaves the loop alone (as
 * before the thread), with a warning.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from '@nestjs/common';
import { LEASE_KEEPER_ON_LOOP, LEASE_RENEWAL_FAILED, WAL_CHECKPOINT_ON_LOOP } from '../managed-jobs.messages.js';
import type { JobStore, LeaseRenewalTarget, RunRef } from '../store/job-store.interface.js';
import { withTimeout } from './in-flight.js';
import { LEASE_KEEPER_THREAD, SHARED_HELD, SHARED_LAST_BEAT } from './lease-keeper.thread.js';

/** How long the thread gets to close its connection at shutdown before it is terminated. */
const CLOSE_TIMEOUT_MS = 2000;
/**
 * Heartbeat intervals without a renewal by the loop after which the thread renews. It checks twice
 * per interval, so it renews at most ~1.7 intervals after the loop's last renewal: inside the
 * shortest lease the options allow (two intervals).
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

export class LeaseKeeper {
  /**
   * Every run held, from its claim until its outcome is written or it is handed back: cells reused
   * through a free list, not a `Map` keyed by job id (one in and one out per job kept the worker's
   * RSS growing, see run-slots.ts). A release scans the cells: as many as the runs held at once
   * (about the concurrency, 10 by default). A cell keeps the ref it was given (the claimed job).
   */
  private readonly held: Array<RunRef | undefined> = [];
  private readonly freeCells: number[] = [];
  private heldCount = 0;
  private thread?: Worker;
  /** Shared with the thread: [SHARED_LAST_BEAT] when the loop last renewed (ms), [SHARED_HELD] runs held. */
  private readonly shared = new BigInt64Array(new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT));
  private loopTimer?: NodeJS.Timeout;
  /** The thread's checkpoint duty (SQLite), while the thread holds it. */
  private checkpointing?: LeaseRenewalTarget['walCheckpoint'];
  private loopRenewal?: Promise<void>;
  private stopping = false;

  constructor(private readonly deps: LeaseKeeperDeps) {}

  /** Whether a thread renews while the loop is blocked. */
  get threaded(): boolean {
    return this.thread !== undefined;
  }

  start(): void {
    Atomics.store(this.shared, SHARED_LAST_BEAT, BigInt(Date.now()));
    try {
      this.thread = this.spawn();
    } catch (error) {
      this.deps.logger.warn(LEASE_KEEPER_ON_LOOP((error as Error).message));
    }
    this.renewOnLoop();
  }

  /** Runs that just started (before their handlers run: one may block the loop right away). */
  hold(runs: readonly RunRef[]): void {
    for (const run of runs) {
      const cell = this.freeCells.length ? this.freeCells.pop()! : this.held.length;
      this.held[cell] = run;
      this.heldCount++;
    }
    Atomics.store(this.shared, SHARED_HELD, BigInt(this.heldCount));
  }

  /** A run whose outcome is written (or that was handed back): its lease is no longer renewed. */
  release(run: RunRef): void {
    const { held } = this;
    let cell = 0;
    while (cell < held.length && (held[cell]?.jobId !== run.jobId || held[cell]!.fence !== run.fence)) cell++;
    if (cell === held.length) return;
    held[cell] = undefined;
    this.freeCells.push(cell);
    this.heldCount--;
    Atomics.store(this.shared, SHARED_HELD, BigInt(this.heldCount));
  }

  /** After the shutdown handed every run back: stop renewing, close the thread's connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.loopTimer);
    await this.loopRenewal;
    this.held.length = 0;
    this.freeCells.length = 0;
    this.heldCount = 0;
    Atomics.store(this.shared, SHARED_HELD, 0n);
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    thread.postMessage({ close: true });
    await withTimeout(exited, CLOSE_TIMEOUT_MS);
    await thread.terminate(); // resolves at once when it already exited
    this.checkpointsBack();
  }

  private spawn(): Worker | undefined {
    const { store, workerId, leaseMs, intervalMs, logger } = this.deps;
    const target = store.leaseRenewal?.(workerId, leaseMs);
    if (!target) {
      logger.warn(LEASE_KEEPER_ON_LOOP(`the ${store.dialect} store has no thread renewal`));
      return undefined;
    }
    const thread = new Worker(LEASE_KEEPER_THREAD, {
      eval: true,
      workerData: {
        driver: target.driver,
        driverPath: driverPath(target),
        connection: cloneable(target.connection),
        setup: target.setup ?? [],
        statement: target.statement,
        shared: this.shared,
        intervalMs,
        staleMs: Math.round(THREAD_TAKES_OVER * intervalMs),
        // A renewal that hangs (a half-open connection) must fail in time to be tried again.
        timeoutMs: Math.ceil(leaseMs / 2),
        checkpointMs: target.walCheckpoint?.everyMs ?? 0,
      },
    });
    thread.unref(); // as the heartbeat timer was: the poll timer is what keeps a worker process alive
    thread.on('message', (message: { warn?: string; checkpointing?: boolean; error?: string }) => {
      if (message.warn) this.deps.logger.warn(LEASE_RENEWAL_FAILED(`lease keeper thread: ${message.warn}`));
      if (message.checkpointing === true && target.walCheckpoint && !this.stopping) {
        this.checkpointing = target.walCheckpoint;
        this.checkpointing.onThread(true);
      } else if (message.checkpointing === false) {
        this.deps.logger.warn(WAL_CHECKPOINT_ON_LOOP(message.error ?? 'unknown error'));
        this.checkpointsBack();
      }
    });
    thread.on('error', (error) => this.threadDown(error.message));
    thread.on('exit', (code) => this.threadDown(`the lease keeper thread exited with code ${code}`));
    return thread;
  }

  /** The thread failed (its driver did not load, it crashed): the loop renews alone from now on. */
  private threadDown(reason: string): void {
    this.checkpointsBack();
    if (this.stopping || !this.thread) return;
    this.thread = undefined;
    this.deps.logger.warn(LEASE_KEEPER_ON_LOOP(reason));
  }

  /** The loop's connection checkpoints the log again (the thread stopped doing it). */
  private checkpointsBack(): void {
    const duty = this.checkpointing;
    this.checkpointing = undefined;
    duty?.onThread(false);
  }

  private renewOnLoop(): void {
    this.loopTimer = setInterval(() => {
      this.loopRenewal ??= this.renewHeld().finally(() => (this.loopRenewal = undefined));
    }, this.deps.intervalMs);
    this.loopTimer.unref();
  }

  /** The loop's renewal; the shared beat tells the thread it need not step in (only after a success). */
  private async renewHeld(): Promise<void> {
    const runs = this.held.filter((h): h is RunRef => h !== undefined);
    const { store, workerId, leaseMs } = this.deps;
    try {
      if (runs.length) {
        const owned = new Set((await store.renewLeases(runs, workerId, leaseMs)).map((r) => `${r.jobId}:${r.fence}`));
        const lost = runs.filter((r) => !owned.has(`${r.jobId}:${r.fence}`));
        if (lost.length) this.deps.onLost(lost);
      }
      Atomics.store(this.shared, SHARED_LAST_BEAT, BigInt(Date.now()));
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

/** Connection options without what cannot cross to a thread (functions: custom streams, callbacks). */
function cloneable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneable);
  if (!value || typeof value !== 'object' || Buffer.isBuffer(value) || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v !== 'function') out[key] = cloneable(v);
  return out;
}
