/**
 * The ledger audit of the reliability specs. Reads the job rows, the attempts ledger
 * (`managed_job_attempts`) and the jobs' own record of what they executed (`job_effects`, written
 * by the handlers in test/reliability/worker-jobs.mjs through their own connection) and checks:
 *
 * - every job is terminal and no ledger row is left open (nothing stuck in `running`);
 * - every claim is in the ledger (a job's fence = its number of ledger rows);
 * - no duplicate (job, attempt) among the runs that used a try, and their number = `attempts`;
 * - a completed job has exactly one `completed` ledger row, the last one, and that run's `end`
 *   effect exists;
 * - how many jobs really ran more than once (`ranTwice`: several `end` effects) or were started
 *   more than once (`restarted`: several `start` effects).
 */
import type { DataSource } from 'typeorm';

/** Outcomes of runs that used up a try (a `lost` run is re-queued without one; `released` too). */
const COUNTED = new Set(['completed', 'failed', 'retrying', 'timeout', 'stopped']);

export interface LedgerRow {
  job_id: string;
  fence: number;
  attempt: number;
  worker_id: string;
  outcome: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export interface EffectRow {
  job_id: string;
  fence: number;
  attempt: number;
  worker: string;
  phase: 'start' | 'end';
}

export interface JobRow {
  job_id: string;
  type: string;
  status: string;
  attempts: number;
  fence: number;
  failed_reason: string | null;
  result: unknown;
}

export interface AuditReport {
  jobs: number;
  byStatus: Record<string, number>;
  ledgerRows: number;
  ledgerOutcomes: Record<string, number>;
  /** Jobs still pending or running. */
  notTerminal: number;
  /** Ledger rows without an outcome (a run nobody closed). */
  openLedgerRows: number;
  duplicateAttempts: number;
  attemptCountMismatch: number;
  fenceMismatch: number;
  completedTwice: number;
  completedWithoutEffect: number;
  /** Jobs whose handler finished its work more than once. */
  ranTwice: string[];
  /** Jobs whose handler was started more than once. */
  restarted: string[];
  /** Examples of each violation, for the failure message. */
  violations: string[];
  ledger: Map<string, LedgerRow[]>;
  effects: Map<string, EffectRow[]>;
  rows: Map<string, JobRow>;
}

export async function auditLedger(ds: DataSource): Promise<AuditReport> {
  const jobs: JobRow[] = (await ds.query(`SELECT job_id, type, status, attempts, fence, failed_reason, result FROM managed_jobs`)).map(
    (r: any) => ({ ...r, attempts: Number(r.attempts), fence: Number(r.fence) }),
  );
  const ledgerRows: LedgerRow[] = (
    await ds.query(`SELECT job_id, fence, attempt, worker_id, outcome, started_at, finished_at FROM managed_job_attempts ORDER BY job_id, fence`)
  ).map((r: any) => ({ ...r, fence: Number(r.fence), attempt: Number(r.attempt) }));
  const effectRows: EffectRow[] = (await ds.query(`SELECT job_id, fence, attempt, worker, phase FROM job_effects`)).map((r: any) => ({
    ...r,
    fence: Number(r.fence),
    attempt: Number(r.attempt),
  }));

  const ledger = group(ledgerRows);
  const effects = group(effectRows);
  const report: AuditReport = {
    jobs: jobs.length,
    byStatus: count(jobs.map((j) => j.status)),
    ledgerRows: ledgerRows.length,
    ledgerOutcomes: count(ledgerRows.map((r) => r.outcome ?? 'open')),
    notTerminal: 0,
    openLedgerRows: ledgerRows.filter((r) => r.outcome === null).length,
    duplicateAttempts: 0,
    attemptCountMismatch: 0,
    fenceMismatch: 0,
    completedTwice: 0,
    completedWithoutEffect: 0,
    ranTwice: [],
    restarted: [],
    violations: [],
    ledger,
    effects,
    rows: new Map(jobs.map((j) => [j.job_id, j])),
  };
  const violation = (text: string) => {
    if (report.violations.length < 20) report.violations.push(text);
  };
  if (report.openLedgerRows) violation(`${report.openLedgerRows} ledger row(s) have no outcome`);

  for (const job of jobs) {
    const runs = ledger.get(job.job_id) ?? [];
    const done = effects.get(job.job_id) ?? [];
    if (job.status === 'pending' || job.status === 'running') {
      report.notTerminal++;
      violation(`job ${job.job_id} is ${job.status}`);
    }
    if (runs.length !== job.fence) {
      report.fenceMismatch++;
      violation(`job ${job.job_id}: fence ${job.fence} but ${runs.length} ledger row(s)`);
    }
    const last = runs[runs.length - 1];
    const failedAsLost = job.status === 'failed' && last?.outcome === 'lost';
    const counted = runs.filter((r) => COUNTED.has(r.outcome ?? '') || (failedAsLost && r === last));
    const attempts = counted.map((r) => r.attempt);
    if (new Set(attempts).size !== attempts.length) {
      report.duplicateAttempts++;
      violation(`job ${job.job_id}: duplicate attempt numbers ${attempts.join(',')}`);
    }
    if (counted.length !== job.attempts) {
      report.attemptCountMismatch++;
      violation(`job ${job.job_id}: attempts ${job.attempts} but ${counted.length} counted run(s) (${runs.map((r) => r.outcome).join(',')})`);
    }
    const completions = runs.filter((r) => r.outcome === 'completed');
    if (completions.length > 1) {
      report.completedTwice++;
      violation(`job ${job.job_id} completed ${completions.length} times`);
    }
    if (job.status === 'completed') {
      if (completions.length !== 1 || completions[0] !== last || last.fence !== job.fence) {
        violation(`job ${job.job_id} is completed but its last ledger row is ${last?.outcome} (fence ${last?.fence} vs ${job.fence})`);
        report.completedTwice += completions.length === 1 ? 1 : 0;
      }
      if (!done.some((e) => e.phase === 'end' && e.fence === job.fence)) {
        report.completedWithoutEffect++;
        violation(`job ${job.job_id} is completed but its run (fence ${job.fence}) recorded no effect`);
      }
    }
    if (done.filter((e) => e.phase === 'end').length > 1) report.ranTwice.push(job.job_id);
    if (done.filter((e) => e.phase === 'start').length > 1) report.restarted.push(job.job_id);
  }
  return report;
}

/** The figures of a report, without the raw rows (for logs and failure messages). */
export function summary(report: AuditReport): Omit<AuditReport, 'ledger' | 'effects' | 'rows' | 'ranTwice' | 'restarted'> & {
  ranTwice: number;
  restarted: number;
} {
  const { ledger: _l, effects: _e, rows: _r, ranTwice, restarted, ...rest } = report;
  return { ...rest, ranTwice: ranTwice.length, restarted: restarted.length };
}

/** Asserts the invariants every scenario shares. */
export function expectCleanAudit(report: AuditReport): void {
  const figures = summary(report);
  const problems = {
    notTerminal: figures.notTerminal,
    openLedgerRows: figures.openLedgerRows,
    duplicateAttempts: figures.duplicateAttempts,
    attemptCountMismatch: figures.attemptCountMismatch,
    fenceMismatch: figures.fenceMismatch,
    completedTwice: figures.completedTwice,
    completedWithoutEffect: figures.completedWithoutEffect,
  };
  const dirty = Object.values(problems).some((n) => n !== 0);
  if (dirty) throw new Error(`Ledger audit failed: ${JSON.stringify(problems)}\n${figures.violations.join('\n')}`);
}

export const EFFECTS_TABLE = {
  postgres: `CREATE TABLE job_effects (id bigserial PRIMARY KEY, job_id uuid NOT NULL, fence int NOT NULL, attempt int NOT NULL,
    worker text NOT NULL, phase text NOT NULL, at timestamp(3) NOT NULL DEFAULT timezone('UTC', now()))`,
  mariadb: `CREATE TABLE job_effects (id bigint AUTO_INCREMENT PRIMARY KEY, job_id varchar(36) NOT NULL, fence int NOT NULL,
    attempt int NOT NULL, worker varchar(255) NOT NULL, phase varchar(16) NOT NULL, at datetime(3) NOT NULL DEFAULT (UTC_TIMESTAMP(3)))`,
  sqlite: `CREATE TABLE job_effects (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, fence INTEGER NOT NULL,
    attempt INTEGER NOT NULL, worker TEXT NOT NULL, phase TEXT NOT NULL, at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')))`,
};

function group<T extends { job_id: string }>(rows: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(row.job_id);
    if (list) list.push(row);
    else map.set(row.job_id, [row]);
  }
  return map;
}

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
