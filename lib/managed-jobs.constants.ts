/** Metadata key written by `@ManagedJob()`. */
export const MANAGED_JOB_METADATA = Symbol.for('nestjs-managed-jobs:job');
/** Injection token of the resolved `ManagedJobsModuleOptions` (defaults merged). */
export const RESOLVED_OPTIONS = Symbol.for('nestjs-managed-jobs:resolved-options');
/** Injection token of the `JobStore` for the configured data source. */
export const JOB_STORE = Symbol.for('nestjs-managed-jobs:store');
/** Injection token of the `StorageDriver` used for job files. */
export const STORAGE_DRIVER = Symbol.for('nestjs-managed-jobs:storage');
/** Postgres channel on which dispatches and stop requests are announced to every worker. */
export const NOTIFY_CHANNEL = 'managed_jobs';
/** Postgres channel on which job events travel to the gateways of other processes. */
export const EVENTS_CHANNEL = 'managed_jobs_events';
/** Injection token of the bundled controller's path prefix (`http.path`), applied before routes are registered. */
export const HTTP_CONTROLLER_PATH = Symbol.for('nestjs-managed-jobs:http-path');
/** Injection token of the `MountedParts` of one module registration (controller, gateway). */
export const MOUNTED_PARTS = Symbol.for('nestjs-managed-jobs:mounted-parts');
/** Injection token of the `JobTelemetry` (OpenTelemetry spans and metrics, or nothing). */
export const JOB_TELEMETRY = Symbol.for('nestjs-managed-jobs:telemetry');
/** Injection token of the options as given to `forRoot` / returned by the `forRootAsync` factory. */
export const MODULE_OPTIONS = Symbol.for('nestjs-managed-jobs:module-options');
/** Injection token of the operator API's path (`{operator.path}/api`), applied before routes are registered. */
export const OPERATOR_API_PATH = Symbol.for('nestjs-managed-jobs:operator-api-path');
/** Injection token of the dashboard's path (`{operator.path}`), applied before routes are registered. */
export const DASHBOARD_PATH = Symbol.for('nestjs-managed-jobs:dashboard-path');
