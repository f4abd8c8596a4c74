import { ORDER_GUARD_SIZE } from './gateway.constants.js';

/**
 * Keeps each job's events in order when they reach the gateway by two paths (this process's
 * worker directly, another process through PostgreSQL): an event older than the last one
 * delivered for the same job (by `updatedAt`, the database clock) is dropped. A late progress
 * event can then never move a bar after `job.stopped`. Bounded LRU: a forgotten job just loses
 * the check, never an event.
 */
export class EventOrderGuard {
  private readonly last = new Map<string, number>();

  constructor(private readonly size = ORDER_GUARD_SIZE) {}

  accept(jobId: string, updatedAt: string): boolean {
    const at = Date.parse(updatedAt);
    const previous = this.last.get(jobId);
    if (previous !== undefined && at < previous) return false;
    this.last.delete(jobId);
    this.last.set(jobId, at);
    if (this.last.size > this.size) this.last.delete(this.last.keys().next().value!);
    return true;
  }
}
