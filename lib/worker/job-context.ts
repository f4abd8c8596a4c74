import { randomUUID } from 'node:crypto';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import type { ManagedJobFileEntity } from '../entities/managed-job-file.entity.js';
import { JobFencedError, JobInterruptedError, ManagedJobsError } from '../errors/managed-jobs.errors.js';
import { JobStatus } from '../enums/job-status.enum.js';
import { INVALID_RELEASE_DELAY, JOB_STOPPED } from '../managed-jobs.messages.js';
import type { AddFileInput, JobContext, JobLogger, PutFileOptions } from '../interfaces/job-context.interface.js';
import { Logger } from '@nestjs/common';
import type { JobStore, RunRef } from '../store/job-store.interface.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import { assertSafeFileName, storedFileName } from '../storage/file-names.js';
import { ProgressReporter } from './progress-reporter.js';
import { storedJson, storedMessage } from './stored-json.js';
import type { BatchItem, JobBatchHandle } from '../workflows/batch.interfaces.js';

const SETTLED = Promise.resolve();

export interface JobContextDeps {
  store: JobStore;
  storage: StorageDriver;
  fileExpiryDays: number;
  progressIntervalMs: number;
  onProgress: (job: ManagedJobEntity) => void;
  /** Where `ctx.log` lines go (batched); without it they only reach the Nest logger. */
  logs?: { write(jobId: string, level: 'info' | 'warn' | 'error', message: unknown, data?: unknown): void };
  /** What `ctx.batch` and `ctx.dependencyResults()` use (lib/workflows). */
  workflows?: WorkflowAccess;
}

/** The part of lib/workflows a run context uses. */
export interface WorkflowAccess {
  add(batchId: string, items: BatchItem[]): Promise<void>;
  isCancelled(batchId: string): Promise<boolean>;
  dependencyResults(jobId: string): Promise<Record<string, unknown>>;
}

/**
 * The `JobContext` of one run. Every write names the run's fence: once the run no longer owns
 * its job (stopped, timed out, reaped), writes change nothing and throw `JobFencedError`.
 */
export class RunContext<P = unknown> implements JobContext<P> {
  readonly jobId: string;
  readonly attempt: number;
  readonly progress: ProgressReporter;
  /** Made on first use of `signal`: most handlers never look, and a busy worker starts thousands of runs a second. */
  private controller?: AbortController;
  private reason?: JobInterruptedError;
  private onInterrupt?: () => void;
  private readonly run: RunRef;
  private state: Record<string, unknown> | null;
  private steps?: Map<string, unknown>;
  /** Set by `release()`: the job goes back to the queue when the handler returns. */
  released?: { delayMs: number };
  private stopDisabled?: Promise<void>;
  /** Made on first use: most handlers never log. */
  private logger?: JobLogger;

  constructor(
    readonly job: ManagedJobEntity,
    readonly payload: P,
    private readonly deps: JobContextDeps,
  ) {
    this.jobId = job.jobId;
    this.attempt = job.attempts;
    this.run = { jobId: job.jobId, fence: job.fence };
    this.state = job.state ?? null;
    this.progress = new ProgressReporter(
      { percent: job.progressPercentage, message: job.progressMessage },
      deps.progressIntervalMs,
      (v) => deps.store.updateProgress(this.run, v.percent, v.message),
      deps.onProgress,
    );
  }

  get fence(): number {
    return this.run.fence;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get log(): JobLogger {
    if (!this.logger) {
      const { logs } = this.deps;
      const jobId = this.jobId;
      const nest = new Logger('ManagedJobs');
      const line = (level: 'info' | 'warn' | 'error') => (message: string, data?: object) => {
        if (logs) return logs.write(jobId, level, message, data);
        const text = `[job ${jobId}] ${message}`;
        if (level === 'error') nest.error(text);
        else if (level === 'warn') nest.warn(text);
        else nest.log(text);
      };
      this.logger = { info: line('info'), warn: line('warn'), error: line('error') };
    }
    return this.logger;
  }

  /** Made on first use; null for a job outside any batch. */
  get batch(): JobBatchHandle | null {
    const batchId = this.job.batchId ?? this.job.callbackBatchId ?? null;
    const workflows = this.deps.workflows;
    if (!batchId || !workflows) return null;
    return {
      batchId,
      isCancelled: () => workflows.isCancelled(batchId),
      add: (items) => workflows.add(batchId, items),
    };
  }

  async dependencyResults<T = Record<string, unknown>>(): Promise<T> {
    if (!this.job.batchId || !this.deps.workflows) return {} as T;
    return (await this.deps.workflows.dependencyResults(this.jobId)) as T;
  }

  /** Why the run was interrupted, if it was. */
  get interruption(): JobInterruptedError | undefined {
    return this.reason;
  }

  /** Calls `listener` once, when the run is interrupted (at once if it already was): the worker's side of `signal`. */
  onInterrupted(listener: () => void): void {
    if (this.reason) listener();
    else this.onInterrupt = listener;
  }

  interrupt(reason: JobInterruptedError): void {
    if (this.reason) return;
    this.reason = reason;
    if (reason.reason !== 'shutdown') this.progress.cancel();
    this.controller?.abort(reason);
    this.onInterrupt?.();
  }

  /** Not `async`: a handler may report in a tight loop, and the shared settled promise costs no allocation. */
  updateProgress(percent: number, message?: string): Promise<void> {
    const clamped = Math.min(100, Math.max(0, Math.round(Number(percent) || 0)));
    try {
      this.progress.update(clamped, message === undefined ? null : storedMessage(message));
    } catch (error) {
      return Promise.reject(error);
    }
    return SETTLED;
  }

  async updateProgressSteps(done: number, total: number, options: { from?: number; to?: number; message?: string } = {}): Promise<void> {
    const from = options.from ?? 0;
    const to = options.to ?? 100;
    const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
    await this.updateProgress(from + (to - from) * ratio, options.message);
  }

  async isStopped(): Promise<boolean> {
    return this.reason !== undefined;
  }

  throwIfStopped(): void {
    if (this.reason) throw this.reason;
  }

  release(options: { delayMs?: number } = {}): void {
    const delayMs = options?.delayMs ?? 0;
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw new ManagedJobsError(INVALID_RELEASE_DELAY(delayMs));
    this.released = { delayMs };
  }

  /**
   * One fenced write, once per run: from then until the run ends, `stop()` refuses the job in
   * every process. A stop that got there first wins: this throws its `JobInterruptedError`.
   */
  disableStop(): Promise<void> {
    this.stopDisabled ??= this.markStopDisabled();
    return this.stopDisabled;
  }

  private async markStopDisabled(): Promise<void> {
    this.throwIfStopped();
    if (await this.deps.store.disableStop(this.run)) return;
    const now = await this.deps.store.find(this.jobId).catch(() => null);
    if (now?.status === JobStatus.Stopped && now.fence === this.run.fence) {
      this.interrupt(new JobInterruptedError('stopped', JOB_STOPPED));
      throw this.reason;
    }
    throw this.fenced();
  }

  async saveState(state: Record<string, unknown>): Promise<void> {
    const json = storedJson('state', state ?? null)!;
    if (!(await this.deps.store.saveState(this.run, json))) throw this.fenced();
    this.state = JSON.parse(json);
  }

  getState<S extends Record<string, unknown> = Record<string, unknown>>(): S | null {
    return this.state as S | null;
  }

  async step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    this.steps ??= await this.deps.store.loadSteps(this.jobId);
    if (this.steps.has(name)) return this.steps.get(name) as T;
    this.throwIfStopped();
    const result = await fn();
    const json = storedJson(`step "${name}" result`, result);
    if (!(await this.deps.store.saveStep(this.run, name, json))) throw this.fenced();
    this.steps.set(name, json === null ? null : JSON.parse(json));
    return result;
  }

  async addFile(file: AddFileInput): Promise<ManagedJobFileEntity> {
    assertSafeFileName(file.filename);
    const path = await this.deps.storage.resolve(file.path);
    return this.recordFile(path, file.filename, file.mimeType, file.sizeBytes, file.expiresAt);
  }

  async putFile(filename: string, data: string | Uint8Array | NodeJS.ReadableStream, options: PutFileOptions): Promise<ManagedJobFileEntity> {
    assertSafeFileName(filename);
    this.throwIfStopped();
    const fileId = randomUUID();
    const path = `${this.jobId}/${fileId}/${storedFileName(filename)}`;
    const size = await this.deps.storage.write(path, data);
    try {
      return await this.recordFile(path, filename, options.mimeType, size, options.expiresAt, fileId);
    } catch (error) {
      await this.deps.storage.delete(path).catch(() => undefined);
      throw error;
    }
  }

  private async recordFile(path: string, filename: string, mimeType: string, sizeBytes: number, expiresAt?: Date, fileId = randomUUID()) {
    const file = await this.deps.store.addFile(this.run, {
      jobFileId: fileId,
      jobId: this.jobId,
      filename,
      path,
      mimeType: mimeType || 'application/octet-stream',
      sizeBytes: Math.max(0, Math.floor(sizeBytes || 0)),
      expiresAt: expiresAt ?? null,
      expiryDays: this.deps.fileExpiryDays,
    });
    if (!file) throw this.fenced();
    return file;
  }

  private fenced(): JobFencedError {
    const error = new JobFencedError(this.jobId);
    this.interrupt(new JobInterruptedError('lost', error.message));
    return error;
  }
}
