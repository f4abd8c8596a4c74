import type { EntityManager } from 'typeorm';
import type { JobOwnerLike, OwnerRef } from '../interfaces/job-owner.interface.js';

/** A job class (the `@ManagedJob()` provider) or its registered name. */
type JobRef = Function | string;

/** One member of a batch, chain or DAG. */
export interface BatchItem<P = unknown> {
  job: JobRef;
  payload: P;
  /** Names the member for `dependsOn` and `ctx.dependencyResults()`; unique in its batch. */
  key?: string;
  /** Keys of the members that must have `completed` before this one runs (it is `waiting` until then). */
  dependsOn?: string[];
  queue?: string;
  priority?: number;
  delayMs?: number;
}

/** A `then` / `catch` / `finally` job: dispatched once, for the batch's owner; it is not a member. */
export interface BatchCallback<P = unknown> {
  job: JobRef;
  payload: P;
}

/** `failFast`: the first failure ends the batch. `continue`: failures are allowed. `{ threshold: n }`: as `continue` for up to `n` failures. */
export type BatchFailurePolicy = 'failFast' | 'continue' | { threshold: number };

export interface BatchOptions extends OwnerRef {
  name?: string;
  /** Who asked for it when not the owner. */
  triggeredBy?: JobOwnerLike | string | number | null;
  /** Write the batch inside the caller's transaction. */
  manager?: EntityManager;
  /** @default 'failFast' */
  failurePolicy?: BatchFailurePolicy;
  /** Once, when the batch ends `completed`. */
  then?: BatchCallback;
  /** Once, at the batch's first failed member. */
  catch?: BatchCallback;
  /** Once, when the batch ends, however it ends. */
  finally?: BatchCallback;
}

export enum BatchStatus {
  Running = 'running',
  Completed = 'completed',
  Partial = 'partial',
  Failed = 'failed',
  Cancelled = 'cancelled',
}

export interface BatchRecord {
  batchId: string;
  name: string | null;
  status: BatchStatus;
  total: number;
  /** Members not started yet (`waiting` and `pending`). */
  pending: number;
  running: number;
  completed: number;
  failed: number;
  stopped: number;
  /** 0–100: finished members over total. */
  progress: number;
  ownerUserId: string | null;
  ownerTenantId: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** What `ctx.batch` is for a member (and for a `then` / `catch` / `finally` job). */
export interface JobBatchHandle {
  batchId: string;
  /** Whether the batch was cancelled (`cancelBatch`). */
  isCancelled(): Promise<boolean>;
  /** Add members to the running batch; their `dependsOn` may name existing keys. */
  add(items: BatchItem[]): Promise<void>;
}
