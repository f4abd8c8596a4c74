/**
 * Group commit: items queued while a write is in flight are written together by the next one.
 * The first item of an idle batcher is written at once (no added latency); under load, batches
 * grow by themselves to whatever arrived during one round trip.
 */
export class GroupCommit<T, R> {
  private readonly queue: Array<{ item: T; resolve: (value: R | null) => void; reject: (error: unknown) => void }> = [];
  private writing = false;

  /**
   * @param write writes a batch and returns the results it produced
   * @param keyOf matches an item to its result (an item without a result resolves to null)
   */
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly keyOf: (value: T | R) => string,
    private readonly maxBatch = 1000,
  ) {}

  /** Resolves with the item's result (null when the write did not produce one) or rejects with the batch's error. */
  add(item: T): Promise<R | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.write(batch.map((b) => b.item));
          const byKey = new Map(results.map((r) => [this.keyOf(r), r]));
          for (const b of batch) b.resolve(byKey.get(this.keyOf(b.item)) ?? null);
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
