import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The worker's promises in flight (statements, runs, hand-backs): the shutdown waits until none
 * is left before the store may close.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  /** Until nothing is left: a completion or hand-back may start while earlier work settles. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
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
