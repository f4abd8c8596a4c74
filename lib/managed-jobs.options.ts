import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Type } from '@nestjs/common';
import type { JobDefaults, ManagedJobsModuleOptions } from './interfaces/managed-jobs-options.interface.js';
import type { JobMiddleware } from './interfaces/job-middleware.interface.js';
import type { StorageDriver } from './storage/storage-driver.interface.js';
import { ManagedJobsConfigurationError } from './errors/managed-jobs.errors.js';
import { CONTROLLER_DISABLED, CONTROLLER_NOT_MOUNTED, OPERATOR_NOT_MOUNTED, OPERATOR_WITHOUT_AUTHORIZE } from './managed-jobs.messages.js';
import { applyCliOverrides } from './cli/cli-overrides.js';

/** What one module registration mounted when it was built (from the extras). */
export interface MountedParts {
  controller: boolean;
  gateway: boolean;
  /** The operator API controller. */
  operator?: boolean;
}

/**
 * The options (possibly from an async factory) must agree with what was mounted before they were
 * known: `http.enabled: true` without the controller would answer every route with a 404.
 */
export function checkMountedParts(options: ManagedJobsModuleOptions, mounted: MountedParts): void {
  if (options?.http?.enabled === true && !mounted.controller) throw new ManagedJobsConfigurationError(CONTROLLER_NOT_MOUNTED());
  if (options?.http?.enabled === false && mounted.controller) throw new ManagedJobsConfigurationError(CONTROLLER_DISABLED());
  if (options?.operator?.enabled === true && !mounted.operator) throw new ManagedJobsConfigurationError(OPERATOR_NOT_MOUNTED());
}

type DeepRequired<T> = { [K in keyof T]-?: T[K] extends object | undefined ? Required<NonNullable<T[K]>> : T[K] };

/** Options with every default filled in: the only shape the rest of the library reads. */
export type ResolvedOptions = Omit<DeepRequired<ManagedJobsModuleOptions>, 'broadcasting' | 'http' | 'storage' | 'jobDefaults' | 'middleware' | 'operator'> & {
  /** Checked per job when the jobs are registered (`managed-jobs.explorer.ts`). */
  jobDefaults: JobDefaults;
  middleware: Type<JobMiddleware>[];
  operator: Required<Omit<NonNullable<ManagedJobsModuleOptions['operator']>, 'authorize' | 'actor'>> &
    Pick<NonNullable<ManagedJobsModuleOptions['operator']>, 'authorize' | 'actor'>;
  broadcasting: Required<Omit<NonNullable<ManagedJobsModuleOptions['broadcasting']>, 'authenticate' | 'allowedOrigins'>> &
    Pick<NonNullable<ManagedJobsModuleOptions['broadcasting']>, 'authenticate' | 'allowedOrigins'>;
  http: Required<Omit<NonNullable<ManagedJobsModuleOptions['http']>, 'resolveOwner'>> &
    Pick<NonNullable<ManagedJobsModuleOptions['http']>, 'resolveOwner'>;
  storage: { root: string; driver?: StorageDriver };
  retentionDays: number | null;
};

/** Merges defaults into user options, in one place, and rejects values that cannot work. */
export function resolveOptions(given: ManagedJobsModuleOptions = {}): ResolvedOptions {
  // A CLI command decides for itself whether this process runs a worker and the maintenance (cli/).
  const options = applyCliOverrides(given);
  const queueName = options.queue?.name ?? 'default';
  const worker = options.worker ?? {};
  const resolved: ResolvedOptions = {
    queue: { name: queueName },
    worker: {
      enabled: worker.enabled ?? true,
      concurrency: worker.concurrency ?? 10,
      queues: worker.queues?.length ? [...worker.queues] : [queueName],
      pollIntervalMs: worker.pollIntervalMs ?? 1000,
      leaseMs: worker.leaseMs ?? 30_000,
      heartbeatIntervalMs: worker.heartbeatIntervalMs ?? 1000,
      reaperIntervalMs: worker.reaperIntervalMs ?? 5000,
      shutdownTimeoutMs: worker.shutdownTimeoutMs ?? 10_000,
      id: worker.id ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    },
    postgres: { preparedStatements: options.postgres?.preparedStatements ?? true },
    fileExpiryDays: options.fileExpiryDays ?? 3,
    storage: { root: resolve(options.storage?.root ?? './storage/managed-jobs'), driver: options.storage?.driver },
    progressIntervalMs: options.progressIntervalMs ?? 150,
    retentionDays: options.retentionDays ?? null,
    schedules: options.schedules ?? [],
    jobDefaults: { ...options.jobDefaults },
    middleware: [...(options.middleware ?? [])],
    telemetry: { enabled: options.telemetry?.enabled ?? true },
    broadcasting: {
      enabled: options.broadcasting?.enabled ?? true,
      namespace: options.broadcasting?.namespace ?? '/managed-jobs',
      channelPrefix: options.broadcasting?.channelPrefix ?? 'jobs',
      // Rooms are private whenever the app says how to authenticate a socket (W6 of the security review).
      channelType: options.broadcasting?.channelType ?? (options.broadcasting?.authenticate ? 'private' : 'public'),
      authenticate: options.broadcasting?.authenticate,
      allowedOrigins: options.broadcasting?.allowedOrigins,
    },
    schedule: {
      enabled: options.schedule?.enabled ?? true,
      expireFilesAt: options.schedule?.expireFilesAt ?? '22:00',
    },
    http: {
      enabled: options.http?.enabled ?? false,
      path: options.http?.path ?? 'jobs',
      resolveOwner: options.http?.resolveOwner,
      guards: options.http?.guards ?? [],
      interceptors: options.http?.interceptors ?? [],
      bodyLimitBytes: options.http?.bodyLimitBytes ?? 100 * 1024,
      maxActiveJobsPerOwner: options.http?.maxActiveJobsPerOwner ?? 100,
    },
    operator: {
      enabled: options.operator?.enabled ?? false,
      path: (options.operator?.path ?? 'managed-jobs').replace(/^\/+|\/+$/g, ''),
      authorize: options.operator?.authorize,
      actor: options.operator?.actor,
      dashboard: options.operator?.dashboard ?? true,
    },
  };
  validate(resolved);
  return resolved;
}

function validate(o: ResolvedOptions): void {
  const positive: Array<[string, number]> = [
    ['worker.concurrency', o.worker.concurrency],
    ['worker.pollIntervalMs', o.worker.pollIntervalMs],
    ['worker.leaseMs', o.worker.leaseMs],
    ['worker.heartbeatIntervalMs', o.worker.heartbeatIntervalMs],
    ['worker.reaperIntervalMs', o.worker.reaperIntervalMs],
    ['fileExpiryDays', o.fileExpiryDays],
  ];
  for (const [name, value] of positive) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new ManagedJobsConfigurationError(`Option ${name} must be a positive number; got ${value}.`);
    }
  }
  if (o.worker.heartbeatIntervalMs * 2 > o.worker.leaseMs) {
    throw new ManagedJobsConfigurationError(
      `Option worker.leaseMs (${o.worker.leaseMs}) must be at least twice worker.heartbeatIntervalMs (${o.worker.heartbeatIntervalMs}), or healthy jobs would lose their lease.`,
    );
  }
  if (o.retentionDays !== null && (!Number.isInteger(o.retentionDays) || o.retentionDays < 0)) {
    throw new ManagedJobsConfigurationError(`Option retentionDays must be an integer ≥ 0 (or null for no pruning); got ${o.retentionDays}.`);
  }
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(o.schedule.expireFilesAt)) {
    throw new ManagedJobsConfigurationError(`Option schedule.expireFilesAt must be HH:mm; got "${o.schedule.expireFilesAt}".`);
  }
  const max = o.http.maxActiveJobsPerOwner;
  if (max !== Infinity && !(Number.isInteger(max) && max >= 1)) {
    throw new ManagedJobsConfigurationError(`Option http.maxActiveJobsPerOwner must be an integer ≥ 1 (or Infinity for no limit); got ${max}.`);
  }
  if (o.operator.enabled && typeof o.operator.authorize !== 'function') throw new ManagedJobsConfigurationError(OPERATOR_WITHOUT_AUTHORIZE());
  if (o.broadcasting.channelType === 'private' && o.broadcasting.enabled && !o.broadcasting.authenticate) {
    throw new ManagedJobsConfigurationError(`Option broadcasting.channelType 'private' needs broadcasting.authenticate(socket).`);
  }
}
