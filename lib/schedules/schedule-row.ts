import type { ScheduleRecord } from '../interfaces/schedule-options.interface.js';
import { fromUtcText } from './utc-text.js';

/** A row as the builders select it (times as UTC text, so they go back into a compare-and-set unchanged). */
export interface ScheduleRow {
  name: string;
  kind: 'cron' | 'once';
  cron: string | null;
  timezone: string;
  job_type: string;
  payload: unknown;
  owner_user_id: string | null;
  owner_tenant_id: string | null;
  enabled: boolean | number;
  catch_up: string;
  overlap: string;
  next_run_at: string | null;
  last_run_at: string | null;
  last_job_id: string | null;
  db_now?: string;
}

export function toScheduleRecord(row: ScheduleRow): ScheduleRecord {
  return {
    name: row.name,
    cron: row.cron ?? '',
    timezone: row.timezone,
    jobType: row.job_type,
    payload: payloadOf(row),
    enabled: Boolean(row.enabled),
    catchUp: row.catch_up,
    overlap: row.overlap,
    nextRunAt: fromUtcText(row.next_run_at),
    lastRunAt: fromUtcText(row.last_run_at),
    lastJobId: row.last_job_id ?? null,
  };
}

/** jsonb arrives parsed from PostgreSQL and as text from SQLite. */
export function payloadOf(row: ScheduleRow): unknown {
  const value = row.payload;
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? JSON.parse(value) : value;
}
