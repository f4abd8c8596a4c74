/**
 * The leak check: every async resource (timer, immediate, socket, worker thread, file handle…)
 * created while an app lives must be gone after `app.close()`, unref'd timers included (which
 * `process.getActiveResourcesInfo()` does not list: they do not keep the process alive, but they
 * still fire into a closed app). Resources come from `async_hooks` init/destroy events.
 */
import { createHook } from 'node:async_hooks';
import { waitFor } from './databases.js';

export type ResourceCounts = Record<string, number>;

export interface ResourceTracker {
  /** Resources created since `trackResources()` and still alive, by type. */
  alive(): ResourceCounts;
  /** Waits (briefly: sockets finish closing on a later turn) until none is alive; stops tracking; returns what is left ({} when clean). */
  settle(timeoutMs?: number): Promise<ResourceCounts>;
}

/**
 * Not tracked: promises (garbage-collected, not closed), and crypto's random-bytes requests (done
 * when their callback ran, but their `destroy` event only comes with a garbage collection).
 */
const IGNORED = new Set(['PROMISE', 'RANDOMBYTESREQUEST']);

export function trackResources(): ResourceTracker {
  const live = new Map<number, string>();
  let settling = false; // the check's own polling timers are not the app's
  const hook = createHook({
    init(id, type) {
      if (!settling && !IGNORED.has(type)) live.set(id, type);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  const alive = () => {
    const counts: ResourceCounts = {};
    for (const type of live.values()) counts[type] = (counts[type] ?? 0) + 1;
    return counts;
  };
  return {
    alive,
    async settle(timeoutMs = 3000) {
      settling = true;
      try {
        await waitFor(() => live.size === 0, { timeoutMs, intervalMs: 50 });
      } catch {
        // reported by the caller's assertion
      }
      hook.disable();
      return alive();
    },
  };
}
