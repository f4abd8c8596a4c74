/**
 * A health indicator for `@nestjs/terminus` (an optional peer, loaded lazily: the result is built
 * with Terminus's `HealthIndicatorService` when it is installed, by hand in the same shape when
 * not). Up when the database answers, this process's worker loop ticked recently, and the oldest
 * due pending job of the worker's queues has not waited longer than the limit.
 */
import { Inject, Injectable } from '@nestjs/common';
import { JOB_STORE, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import {
  HEALTH_DATABASE_DOWN,
  HEALTH_QUEUE_BEHIND,
  HEALTH_TIMED_OUT,
  HEALTH_WORKER_STALLED,
  HEALTH_WORKER_STOPPED,
} from '../managed-jobs.messages.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { loadOptionalPeer } from '../optional-peers.js';
import type { JobStore } from '../store/job-store.interface.js';
import { JobWorker } from '../worker/job-worker.js';

export interface ManagedJobsHealthOptions {
  /**
   * Down when the oldest due pending job of the worker's queues has waited longer than this
   * (the queue is not being worked, or not fast enough). @default 300000 (5 minutes)
   */
  maxOldestPendingAgeMs?: number;
}

/** What the indicator reports under its key; `status` is `'up'` or `'down'` (Terminus's `HealthIndicatorResult`). */
export interface ManagedJobsHealthDetails {
  status: 'up' | 'down';
  /** Why it is down. */
  message?: string;
  database: 'up' | 'down';
  /** `off`: this process runs no worker (`worker.enabled: false`, or no job providers); not a failure. */
  worker: 'running' | 'stalled' | 'stopped' | 'off';
  /** Milliseconds since the worker loop last ticked. */
  lastTickMsAgo?: number;
  /** How long the oldest due pending job has waited; null when none is due. */
  oldestPendingAgeMs?: number | null;
  maxOldestPendingAgeMs: number;
}

export type ManagedJobsHealthResult<Key extends string = string> = Record<Key, ManagedJobsHealthDetails>;

const DEFAULT_MAX_AGE_MS = 5 * 60_000;
/** A database that takes longer than this to answer is down for the health check. */
const DATABASE_TIMEOUT_MS = 5000;

type Terminus = typeof import('@nestjs/terminus');

@Injectable()
export class ManagedJobsHealthIndicator {
  private terminus?: Promise<Terminus | null>;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(JOB_STORE) private readonly store: JobStore,
    private readonly worker: JobWorker,
  ) {}

  /**
   * `{ [key]: { status: 'up' | 'down', … } }` for `HealthCheckService.check([() => indicator.isHealthy('jobs')])`;
   * Terminus answers 503 when it is down. Never throws.
   */
  async isHealthy<const Key extends string>(key: Key, options: ManagedJobsHealthOptions = {}): Promise<ManagedJobsHealthResult<Key>> {
    const maxOldestPendingAgeMs = options.maxOldestPendingAgeMs ?? DEFAULT_MAX_AGE_MS;
    const { pollIntervalMs, queues } = this.options.worker;
    const details: Omit<ManagedJobsHealthDetails, 'status'> = { database: 'up', worker: 'off', maxOldestPendingAgeMs };
    const problems: string[] = [];

    const loop = this.worker.loopHealth;
    if (loop) {
      const msAgo = Date.now() - loop.lastTickAt;
      details.lastTickMsAgo = msAgo;
      // Timers fire late on a busy host: one poll interval of grace (and a second at least).
      details.worker = !loop.running ? 'stopped' : msAgo > pollIntervalMs + Math.max(pollIntervalMs, 1000) ? 'stalled' : 'running';
      if (details.worker === 'stopped') problems.push(HEALTH_WORKER_STOPPED());
      if (details.worker === 'stalled') problems.push(HEALTH_WORKER_STALLED(msAgo, pollIntervalMs));
    }

    try {
      const age = await withTimeout(this.store.oldestDueAgeMs(queues), DATABASE_TIMEOUT_MS);
      details.oldestPendingAgeMs = age === null ? null : Math.round(age);
      if (age !== null && age > maxOldestPendingAgeMs) problems.push(HEALTH_QUEUE_BEHIND(Math.round(age), maxOldestPendingAgeMs));
    } catch (error) {
      details.database = 'down';
      problems.unshift(HEALTH_DATABASE_DOWN((error as Error).message));
    }

    const data = problems.length ? { message: problems.join(' '), ...details } : details;
    return this.result(key, problems.length ? 'down' : 'up', data);
  }

  private async result<Key extends string>(key: Key, status: 'up' | 'down', data: object): Promise<ManagedJobsHealthResult<Key>> {
    this.terminus ??= loadOptionalPeer<Terminus>('@nestjs/terminus', () => import('@nestjs/terminus'));
    const terminus = await this.terminus;
    if (terminus?.HealthIndicatorService) {
      const session = new terminus.HealthIndicatorService().check(key);
      return (status === 'up' ? session.up(data as Record<string, unknown>) : session.down(data as Record<string, unknown>)) as unknown as ManagedJobsHealthResult<Key>;
    }
    return { [key]: { status, ...data } } as ManagedJobsHealthResult<Key>;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(HEALTH_TIMED_OUT(ms))), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
