import type { DataSource } from 'typeorm';
import { Cron } from 'croner';
import type { Dialect } from '../support/databases.js';

/** `$1`-style SQL for either dialect. */
export function sql(dialect: Dialect, text: string): string {
  return dialect === 'postgres' ? text : text.replace(/\$\d+/g, '?');
}

export const utcText = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 23);
const parse = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`));

export interface JobRow {
  jobId: string;
  status: string;
  ownerUserId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The jobs of one owner (the tests give each schedule its own owner id), oldest first. */
export async function jobsOf(ds: DataSource, dialect: Dialect, owner: string): Promise<JobRow[]> {
  const cast = dialect === 'postgres' ? '::text' : '';
  const rows: any[] = await ds.query(
    sql(dialect, `SELECT job_id, status, owner_user_id, created_at${cast} AS created_at, started_at${cast} AS started_at,
      finished_at${cast} AS finished_at FROM managed_jobs WHERE owner_user_id = $1 ORDER BY created_at, job_id`),
    [owner],
  );
  return rows.map((r) => ({
    jobId: r.job_id,
    status: r.status,
    ownerUserId: r.owner_user_id,
    createdAt: parse(r.created_at)!,
    startedAt: parse(r.started_at),
    finishedAt: parse(r.finished_at),
  }));
}

export async function setNextRunAt(ds: DataSource, dialect: Dialect, name: string, at: Date): Promise<void> {
  await ds.query(sql(dialect, `UPDATE managed_job_schedules SET next_run_at = $1 WHERE name = $2`), [utcText(at), name]);
}

export async function scheduleRowCount(ds: DataSource): Promise<number> {
  const [row] = await ds.query(`SELECT count(*) AS n FROM managed_job_schedules`);
  return Number(row.n);
}

/** Occurrences of `cron` (UTC) in [from, to], oldest first. */
export function occurrences(cron: string, from: Date, to: Date): Date[] {
  const c = new Cron(cron, { paused: true, mode: '5-or-6-parts' });
  const out: Date[] = [];
  for (let d: Date | null = new Date(from.getTime() - 1); (d = c.nextRun(d)) && d <= to; ) out.push(d);
  return out;
}

/** A cron that fires hourly, at a minute and second `aheadMs` from now (so it will not fire during a test). */
export function hourlyCronAhead(aheadMs = 30 * 60_000): string {
  const at = new Date(Date.now() + aheadMs);
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} * * * *`;
}

/** The `k`-th most recent occurrence of `cron` before now. */
export function occurrenceBack(cron: string, k: number): Date {
  return new Cron(cron, { paused: true, mode: '5-or-6-parts' }).previousRuns(k, new Date()).at(-1)!;
}
