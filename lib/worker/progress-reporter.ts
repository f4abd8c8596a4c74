import type { ManagedJobEntity } from '../entities/managed-job.entity.js';

export interface ProgressValue {
  percent: number;
  message: string | null;
}

/**
 * Coalesces progress updates of one run: however often the job reports, at most one write (and
 * one broadcast) per `intervalMs`, always of the newest value. Writes are chained, so events of a
 * job leave in the order they were written. `settle()` flushes the last value before a transition.
 */
export class ProgressReporter {
  /** A value not yet written: `current` holds it (no object per update: a job may report in a tight loop). */
  private dirty = false;
  private timer?: NodeJS.Timeout;
  private lastWriteAt = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Writes queued on `chain` and not yet done. */
  private writes = 0;
  private percent: number;
  private message: string | null;

  constructor(
    initial: ProgressValue,
    private readonly intervalMs: number,
    private readonly write: (value: ProgressValue) => Promise<ManagedJobEntity | null>,
    private readonly onWritten: (job: ManagedJobEntity) => void,
  ) {
    this.percent = initial.percent;
    this.message = initial.message;
  }

  /** The newest value reported (written or not). */
  get current(): ProgressValue {
    return { percent: this.percent, message: this.message };
  }

  update(percent: number, message: string | null): void {
    this.percent = percent;
    this.message = message;
    this.dirty = true;
    if (this.timer) return;
    // Even with no wait, defer to a timer: a synchronous loop of updates becomes one write.
    const wait = Math.max(0, this.lastWriteAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): Promise<void> {
    this.timer = undefined;
    this.writes++;
    this.chain = this.chain.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const value = this.current;
      this.lastWriteAt = Date.now();
      try {
        const job = await this.write(value);
        if (job) this.onWritten(job);
      } catch {
        // A lost progress write is not worth failing a job for; the next one (or the final
        // transition, which carries the last value) brings the record up to date.
      } finally {
        this.writes--;
      }
    });
    return this.chain;
  }

  /** Stop the timer and write whatever is still pending; resolves when all writes are done. */
  async settle(): Promise<ProgressValue> {
    // The common case, a job that never reported progress: nothing to write or wait for.
    if (!this.timer && !this.dirty && !this.writes) return this.current;
    clearTimeout(this.timer);
    await this.flush();
    return this.current;
  }

  /** Forget pending writes (the run no longer owns the job). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = false;
  }
}
