import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The worker's promises in flight (statements, runs, hand-backs): the shutdown waits until none
 * is left before the store may close.
 *
 * Counted, not kept in a `Set`: a long-lived `Set` with one promise in and one out per run kept
 * every run's objects alive through minor GCs until the next full GC (run-slots.ts says why), and
 * the worker's RSS grew with it.
 */
export class InFlight {
  private pending = 0;
  private idle?: { promise: Promise<void>; resolve: () => void };

  track(promise: Promise<unknown>): void {
    this.pending++;
    void promise.finally(() => this.settle());
  }

  /** Until nothing is left: a completion or hand-back may start while earlier work settles. */
  settled(): Promise<void> {
    if (!this.pending) return Promise.resolve();
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    return this.idle.promise;
  }

  private settle(): void {
    if (--this.pending || !this.idle) return;
    const { resolve } = this.idle;
    this.idle = undefined;
    resolve();
  }
}

/** Retry a write through a lost connection for up to `forMs`; after that the reaper takes over. */
export async function persist<T>(write: () => Promise<T>, forMs: number): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
}

/** Waits for `promise`, at most `ms`; clears its timer either way. */
export async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
