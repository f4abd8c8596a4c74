/**
 * The dispatching side of the jobs in worker-jobs.mjs. The spec process only dispatches (its
 * worker is off); it needs the same names and declarations (`idempotent`, `tries`) because
 * those are stamped on the row at dispatch.
 */
import { ManagedJob, type ManagedJobHandler } from '../../lib/index.js';

export interface WorkPayload {
  ms?: number;
  /** Work time of the first claim only. */
  firstRunMs?: number;
  steps?: number;
  cooperative?: boolean;
  saveState?: boolean;
  swallowFenced?: boolean;
}

const ELSEWHERE = 'This job runs in the worker processes only.';

@ManagedJob({ name: 'work' })
export class WorkJob implements ManagedJobHandler<WorkPayload> {
  handle(): never {
    throw new Error(ELSEWHERE);
  }
}

@ManagedJob({ name: 'work-unsafe', idempotent: false })
export class UnsafeWorkJob implements ManagedJobHandler<WorkPayload> {
  handle(): never {
    throw new Error(ELSEWHERE);
  }
}

/** Blocks its worker's event loop for `busyMs` (worker-jobs.mjs). */
@ManagedJob({ name: 'cpu' })
export class CpuJob implements ManagedJobHandler<{ busyMs: number }> {
  handle(): never {
    throw new Error(ELSEWHERE);
  }
}
