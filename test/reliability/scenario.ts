/**
 * One scenario's world: a fresh database (with the `job_effects` side table), a dispatcher app in
 * the spec process (module with its worker off: it only dispatches and reads), and the env that
 * points worker processes at the same database and at the built library.
 */
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobRunnerService } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import type { TestDatabase } from '../support/databases.js';
import { EFFECTS_TABLE } from '../support/audit.js';
import { buildLibrary, databaseEnv, type WorkerEnv } from '../support/processes.js';
import { CpuJob, UnsafeWorkJob, WorkJob } from './jobs.js';

export interface Scenario {
  db: TestDatabase;
  app: INestApplication;
  runner: JobRunnerService;
  ds: DataSource;
  /** Env of a worker process on this database. */
  env: WorkerEnv;
  close(): Promise<void>;
}

export async function openScenario(db: TestDatabase, worker: WorkerEnv = {}): Promise<Scenario> {
  const library = buildLibrary();
  const app = await createTestApp(db, { providers: [WorkJob, UnsafeWorkJob, CpuJob], options: { worker: { enabled: false } } });
  const ds = app.get(DataSource);
  await ds.query(EFFECTS_TABLE[db.dialect]);
  const dbEnv = databaseEnv(db);
  return {
    db,
    app,
    ds,
    runner: app.get(JobRunnerService),
    env: { NMJ_LIBRARY: library, NMJ_LOG_LEVELS: 'log,warn,error', ...dbEnv, ...worker },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** Job statuses by id, straight from the table. */
export async function statuses(ds: DataSource, jobIds?: string[]): Promise<Map<string, string>> {
  const rows: Array<{ job_id: string; status: string }> = await ds.query(`SELECT job_id, status FROM managed_jobs`);
  const map = new Map(rows.map((r) => [r.job_id, r.status]));
  if (!jobIds) return map;
  return new Map(jobIds.map((id) => [id, map.get(id) ?? 'missing']));
}

export async function countWhere(ds: DataSource, where: string): Promise<number> {
  const [row] = await ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE ${where}`);
  return Number(row.n);
}

export const TERMINAL = `status IN ('completed', 'failed', 'stopped')`;
