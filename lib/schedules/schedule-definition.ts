import { InvalidScheduleError } from '../errors/schedule.errors.js';
import type { JobRegistry } from '../discovery/job-registry.js';
import type { ScheduleCatchUp, ScheduleDefinition, ScheduleOverlap } from '../interfaces/schedule-options.interface.js';
import { ownerIds } from '../services/job-scope.js';
import { validatePayload } from '../services/payload-validator.js';
import { parseCron } from './cron.js';
import type { ScheduleRowInput } from './sql/schedule-sql.interface.js';
import { toUtcText } from './utc-text.js';

const CATCH_UP: ScheduleCatchUp[] = ['none', 'latest', 'all'];
const OVERLAP: ScheduleOverlap[] = ['allow', 'skip'];

/** Checks a schedule name (a key of the table), or throws `InvalidScheduleError`. */
export function checkScheduleName(name: unknown): string {
  if (typeof name !== 'string' || !name.trim() || name.length > 255) {
    throw new InvalidScheduleError(String(name), 'a schedule name must be a non-empty string of at most 255 characters.');
  }
  return name;
}

/**
 * A definition checked and turned into the row to write: every check happens before anything is
 * written (cron, time zone, policies, the job, its payload). Throws `InvalidScheduleError`,
 * `UnknownJobError` or `InvalidJobPayloadError`.
 */
export async function toScheduleRow(def: ScheduleDefinition, registry: JobRegistry, now: Date, declared: boolean): Promise<ScheduleRowInput> {
  const name = checkScheduleName(def?.name);
  const timezone = def.timezone ?? 'UTC';
  const cron = parseCron(name, def.cron, timezone);
  const catchUp = def.catchUp ?? 'latest';
  if (!CATCH_UP.includes(catchUp)) throw new InvalidScheduleError(name, `catchUp must be one of ${CATCH_UP.join(', ')}; got ${JSON.stringify(catchUp)}.`);
  const overlap = def.overlap ?? 'allow';
  if (!OVERLAP.includes(overlap)) throw new InvalidScheduleError(name, `overlap must be one of ${OVERLAP.join(', ')}; got ${JSON.stringify(overlap)}.`);
  if (def.enabled !== undefined && typeof def.enabled !== 'boolean') throw new InvalidScheduleError(name, 'enabled must be a boolean.');
  const job = registry.resolve(def.job);
  const payload = await validatePayload(job.name, job.payload, def.payload);
  const owner = ownerIds(def);
  return {
    name,
    cron: cron.cron,
    timezone,
    jobType: job.name,
    payload,
    ownerUserId: owner.ownerUserId,
    ownerTenantId: owner.ownerTenantId,
    enabled: def.enabled ?? null,
    catchUp,
    overlap,
    nextRunAt: toUtcText(cron.next(now)),
    declared,
  };
}
