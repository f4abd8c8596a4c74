import { Injectable } from '@nestjs/common';

/** Tells this process's ticker that a schedule changed, so it re-reads `min(next_run_at)` at once. */
@Injectable()
export class ScheduleChanges {
  private listener?: () => void;

  /** The ticker registers itself here (one ticker per module instance). */
  onChange(listener: () => void): void {
    this.listener = listener;
  }

  changed(): void {
    this.listener?.();
  }
}
