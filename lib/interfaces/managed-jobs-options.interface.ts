import type { CanActivate, NestInterceptor, Type } from '@nestjs/common';
import type { Socket } from 'socket.io';
import type { JobOwnerLike } from './job-owner.interface.js';
import type { StorageDriver } from '../storage/storage-driver.interface.js';
import type { ScheduleDefinition } from './schedule-options.interface.js';
import type { BackoffFn } from './managed-job-options.interface.js';
import type { JobMiddleware } from './job-middleware.interface.js';

/** Defaults for every `@ManagedJob()`; a job's own options win. Units as in `@ManagedJob()` (seconds). */
export interface JobDefaults {
  /** @default 1 */
  tries?: number;
  /** @default 0 */
  backoff?: number | number[] | BackoffFn;
  /** @default none */
  timeout?: number;
  /** @default false */
  failOnTimeout?: boolean;
}

export interface WorkerOptions {
  /** Run a worker in this process. Turn off in web-only processes. @default true */
  enabled?: boolean;
  /** Jobs run at once by this process. @default 10 */
  concurrency?: number;
  /** Queues to take jobs from, first one first. @default [queue.name] */
  queues?: string[];
  /** Fallback poll when no wake-up arrives (delayed jobs, other processes on SQLite). @default 1000 */
  pollIntervalMs?: number;
  /** How long a claim stays valid without renewal; a dead worker's jobs return after it. @default 30000 */
  leaseMs?: number;
  /**
   * How often leases of running jobs are renewed (one query for all of them), which also delivers
   * stop requests made in other processes. @default 1000
   */
  heartbeatIntervalMs?: number;
  /** How often this worker looks for jobs whose lease ran out. @default 5000 */
  reaperIntervalMs?: number;
  /** On shutdown, how long running jobs may take to finish before they are handed back. @default 10000 */
  shutdownTimeoutMs?: number;
  /** An id for this worker in the lease and the attempts ledger. @default `${hostname}:${pid}:${random}` */
  id?: string;
}

export interface BroadcastingOptions {
  /**
   * Push job events over socket.io. Also governs relaying events through PostgreSQL: keep it on
   * in worker-only processes, or their events never reach the web processes' sockets. @default true
   */
  enabled?: boolean;
  /** socket.io namespace of the gateway. @default '/managed-jobs' */
  namespace?: string;
  /** Room prefix: `{prefix}.{ownerUserId}` and `{prefix}.tenant.{tenantId}`. @default 'jobs' */
  channelPrefix?: string;
  /**
   * `public`: any socket may join any room by name, so anyone who knows or guesses an owner id
   * sees that owner's jobs (a warning is logged at boot). `private`: the handshake must pass
   * `authenticate`, and a socket joins only its own user and tenant channels; its user channel
   * delivers only the jobs of its own owner pair (user and tenant).
   * @default 'private' when `authenticate` is set, else 'public'
   */
  channelType?: 'public' | 'private';
  /**
   * Resolves the owner of a socket from its handshake (`socket.handshake.auth`, headers, cookies);
   * required for private channels: a `JobOwner` or `{ id, tenantId }`. Throw or return null to
   * refuse the connection. @default none
   */
  authenticate?: (socket: Socket) => JobOwnerLike | null | undefined | Promise<JobOwnerLike | null | undefined>;
  /**
   * Browser origins allowed to connect besides the page's own (`'*'` for any). Other origins are
   * refused at the handshake. The page's own origin is the scheme and host the socket was opened
   * on; `X-Forwarded-Proto` / `X-Forwarded-Host` count only when the Express app trusts the proxy
   * (`app.set('trust proxy', …)`). @default [] (same origin only)
   */
  allowedOrigins?: string[];
}

export interface ScheduleOptions {
  /**
   * Run the daily maintenance (file expiry, then pruning when `retentionDays` is set) through the
   * app's `ScheduleModule.forRoot()`. @default true
   */
  enabled?: boolean;
  /** Local time of day (`HH:mm`) the daily maintenance runs. @default '22:00' */
  expireFilesAt?: string;
}

export interface HttpOptions {
  /** Mount the bundled controller. @default false */
  enabled?: boolean;
  /** Path prefix. @default 'jobs' */
  path?: string;
  /** Finds the owner of a request: a `JobOwner` or `{ id, tenantId }`. @default `req.user` */
  resolveOwner?: (req: any) => JobOwnerLike | null | undefined | Promise<JobOwnerLike | null | undefined>;
  /** Guards applied to the controller (e.g. your auth guard). @default [] */
  guards?: Array<Type<CanActivate> | CanActivate>;
  /** Interceptors applied to the controller. @default [] */
  interceptors?: Array<Type<NestInterceptor> | NestInterceptor>;
  /** Largest JSON body accepted by `POST /jobs`, in bytes. @default 102400 */
  bodyLimitBytes?: number;
  /**
   * Fairness: how many of its own `POST /jobs` dispatches (jobs it triggered itself) an owner may
   * have pending or running at once; past it, `POST /jobs` answers 429 and writes nothing.
   * `Infinity` turns the limit off. @default 100
   */
  maxActiveJobsPerOwner?: number;
}

export interface TelemetryOptions {
  /**
   * Record OpenTelemetry spans and metrics through `@opentelemetry/api` (an optional peer: without
   * it nothing is recorded and nothing fails). With the API but no SDK registered, the API's
   * no-op implementations are called. `false` records nothing and adds nothing to a run.
   * @default true (when `@opentelemetry/api` is installed)
   */
  enabled?: boolean;
}

export interface OperatorOptions {
  /** Mount the operator HTTP API (and the dashboard) under `/{path}`. @default false */
  enabled?: boolean;
  /** Path prefix: the API answers under `/{path}/api`. @default 'managed-jobs' */
  path?: string;
  /**
   * Decides whether a request may use the operator API and the dashboard (an admin check).
   * Refused: 403 with no data. Required when `enabled`. It also receives the handshake request of
   * the dashboard's live socket (a plain Node request: headers and cookies, before any Nest
   * middleware or guard), so check a session cookie or header there, not only `req.user`.
   * @default none
   */
  authorize?: (req: any) => boolean | Promise<boolean>;
  /** Who the audit trail says acted, from the request. @default none (recorded as null) */
  actor?: (req: any) => string | null | undefined;
  /**
   * Serve the dashboard page at `/{path}` (behind `authorize`, with its live feed on the socket.io
   * namespace `{broadcasting.namespace}/operator` when broadcasting is on). @default true
   */
  dashboard?: boolean;
}

export interface ManagedJobsModuleOptions {
  worker?: WorkerOptions;
  queue?: {
    /** The queue of jobs that name none. @default 'default' */
    name?: string;
  };
  postgres?: {
    /**
     * Prepare the queue's statements once per pooled connection (they take longer to plan than to
     * run). Set false behind PgBouncer older than 1.21 in transaction mode. @default true
     */
    preparedStatements?: boolean;
  };
  /** Days before a job's files expire unless they say otherwise. @default 3 */
  fileExpiryDays?: number;
  /** Where job files are kept: a local folder or your own driver. @default { root: './storage/managed-jobs' } */
  storage?: { root?: string; driver?: StorageDriver };
  /** Minimum gap between two progress writes (and broadcasts) of one job. @default 150 */
  progressIntervalMs?: number;
  /** Delete finished jobs older than this many days (see `ManagedJobsMaintenanceService`). @default off */
  retentionDays?: number | null;
  broadcasting?: BroadcastingOptions;
  schedule?: ScheduleOptions;
  http?: HttpOptions;
  /**
   * Durable cron schedules declared in code, created or updated at boot (a bad cron or time zone
   * fails the boot). See `ManagedSchedulesService` for schedules made at run time. @default []
   */
  schedules?: ScheduleDefinition[];
  /** Defaults for every job's `tries`, `backoff`, `timeout` and `failOnTimeout`; a job's own options win. @default {} */
  jobDefaults?: JobDefaults;
  /**
   * Middleware around every run of every job, outermost first; they wrap the job's own
   * (`@ManagedJob({ middleware })`). Resolved through Nest's DI (see `JobMiddleware`). @default []
   */
  middleware?: Type<JobMiddleware>[];
  /** OpenTelemetry traces and metrics (see README, "Observability"). @default { enabled: true } */
  telemetry?: TelemetryOptions;
  /** The operator HTTP API (admins and tooling; unscoped, behind `authorize`). @default off */
  operator?: OperatorOptions;
}

/** What must be known to build the providers, outside the (possibly async) options factory. */
export interface ManagedJobsModuleExtras {
  /** The TypeORM data source (connection) name. @default the default data source */
  dataSource?: string;
  /** Make `JobRunnerService` and friends injectable everywhere. @default true */
  isGlobal?: boolean;
  /**
   * Mount the bundled HTTP controller. `forRoot` sets it from `http.enabled`. With `forRootAsync`
   * the factory's options are not known when the module is built, so say `controller: true` here,
   * next to `useFactory`: a factory that sets `http.enabled: true` without it fails the boot with
   * a `ManagedJobsConfigurationError` (rather than answering every route with a 404).
   * @default http.enabled (forRoot), false (forRootAsync)
   */
  controller?: boolean;
  /**
   * Register the socket.io gateway. When registered it serves sockets if `broadcasting.enabled`
   * (read from the resolved options, so `forRoot` and `forRootAsync` behave alike) and the
   * optional peers `@nestjs/websockets`, `@nestjs/platform-socket.io` and `socket.io` are
   * installed; a missing one is named in one warning at boot. `false` registers nothing (a
   * worker-only process keeps `broadcasting.enabled` on to relay its events on PostgreSQL).
   * @default true
   */
  gateway?: boolean;
  /**
   * Mount the operator API controller. `forRoot` sets it from `operator.enabled`; with
   * `forRootAsync` say `operatorApi: true` here (a factory that enables the operator without it fails
   * the boot). @default operator.enabled (forRoot), false (forRootAsync)
   */
  operatorApi?: boolean;
}
