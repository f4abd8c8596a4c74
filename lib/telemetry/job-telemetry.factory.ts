import type { ResolvedOptions } from '../managed-jobs.options.js';
import { loadOptionalPeer } from '../optional-peers.js';
import type { MonitoringStore } from '../store/job-store.interface.js';
import { NO_TELEMETRY, type JobTelemetry } from './job-telemetry.js';
import type { OpenTelemetryApi } from './open-telemetry-jobs.js';

/**
 * The module's `JobTelemetry`: OpenTelemetry when `telemetry.enabled` (the default) and
 * `@opentelemetry/api` is installed, else `NO_TELEMETRY`. The implementation is imported only
 * then, so an app without the API never loads a line of it.
 */
export async function createJobTelemetry(options: ResolvedOptions, store: MonitoringStore): Promise<JobTelemetry> {
  if (!options.telemetry.enabled) return NO_TELEMETRY;
  const api = await loadOptionalPeer<OpenTelemetryApi>('@opentelemetry/api', () => import('@opentelemetry/api'));
  if (!api) return NO_TELEMETRY;
  const { OpenTelemetryJobs } = await import('./open-telemetry-jobs.js');
  return new OpenTelemetryJobs(api, store, options.worker.queues);
}
