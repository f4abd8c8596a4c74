/**
 * Issue 11, bug 5: a handler that blocks its event loop longer than `leaseMs` is not run twice.
 * Leases are renewed by the lease keeper's thread (lib/worker/lease-keeper.ts), on its own
 * connection, while the handler spins; another worker process on the same database reaps every
 * 300 ms and must find nothing to take. Also: a stop requested from another process still reaches
 * a running handler within about a heartbeat (on SQLite only the keeper's renewal can tell it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { createTestDatabase, waitFor, type Dialect } from '../support/databases.js';
import { auditLedger, expectCleanAudit, summary } from '../support/audit.js';
import { killAllWorkers, startWorkers, type WorkerProcess } from '../support/processes.js';
import { openScenario, type Scenario } from './scenario.js';

const LEASE_MS = 2000;
const FAST = { NMJ_LEASE_MS: LEASE_MS, NMJ_HEARTBEAT_INTERVAL_MS: 300, NMJ_REAPER_INTERVAL_MS: 300, NMJ_POLL_INTERVAL_MS: 200, NMJ_CONCURRENCY: 1 };

const log = (label: string, figures: unknown) => process.stderr.write(`\n[reliability] ${label}: ${JSON.stringify(figures)}\n`);

describe.each(['postgres', 'sqlite'] as Dialect[])('a CPU-bound handler on %s', (dialect) => {
  let s: Scenario | undefined;

  afterEach(async () => {
    await killAllWorkers();
    await s?.close();
    s = undefined;
  });

  const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
  const jobRow = async (ds: DataSource, jobId: string) => (await ds.query(`SELECT * FROM managed_jobs WHERE job_id = ${p(1)}`, [jobId]))[0];
  const ledgerOf = async (ds: DataSource, jobId: string) =>
    ds.query(`SELECT worker_id, outcome FROM managed_job_attempts WHERE job_id = ${p(1)} ORDER BY fence`, [jobId]);
  const effectsOf = async (ds: DataSource, jobId: string) =>
    ds.query(`SELECT worker, phase FROM job_effects WHERE job_id = ${p(1)} ORDER BY id`, [jobId]);
  const time = (value: string | Date) => new Date(typeof value === 'string' && !value.endsWith('Z') ? `${value.replace(' ', 'T')}Z` : value).getTime();

  it('blocking the event loop for 3× leaseMs, beside a second worker process, runs exactly once with no `lost` run', async () => {
    s = await openScenario(await createTestDatabase(dialect), FAST);
    await startWorkers(2, s.env, 'cpu');
    const [job] = await s.runner.dispatchMany('cpu', [{ payload: { busyMs: 3 * LEASE_MS } }]);

    // While it spins, its lease keeps moving forward (renewed off the blocked event loop).
    const leases: number[] = [];
    const row = await waitFor(async () => {
      const r = await jobRow(s!.ds, job.jobId);
      if (r.status === 'running' && r.lease_expires_at) leases.push(time(r.lease_expires_at));
      return r.status === 'completed' ? r : null;
    }, { timeoutMs: 60_000, intervalMs: 100, description: 'the CPU-bound job completes' });
    await sleep(1500); // time for a wrongful reap and re-run to show

    const effects = await effectsOf(s.ds, job.jobId);
    const report = await auditLedger(s.ds);
    log(`CPU-bound 3× lease on ${dialect}`, { leaseRenewedBy: Math.max(...leases) - Math.min(...leases), ...summary(report) });
    expect(effects.map((e: any) => e.phase)).toEqual(['start', 'end']);
    expect(row.attempts).toBe(1);
    expect(Number(row.fence)).toBe(1);
    expect((await ledgerOf(s.ds, job.jobId)).map((r: any) => [r.worker_id, r.outcome])).toEqual([[effects[0].worker, 'completed']]);
    expect(report.ledgerOutcomes).toEqual({ completed: 1 });
    // The lease moved by well over a lease while the handler held the loop.
    expect(Math.max(...leases) - Math.min(...leases)).toBeGreaterThan(LEASE_MS);
    expectCleanAudit(report);
  }, 120_000);

  it('a stop requested in another process aborts the running handler within about a heartbeat', async () => {
    s = await openScenario(await createTestDatabase(dialect), FAST);
    const [worker] = await startWorkers(1, s.env, 'stop');
    const [job] = await s.runner.dispatchMany('work', [{ payload: { ms: 30_000, steps: 300 } }]);
    await waitFor(async () => (await effectsOf(s!.ds, job.jobId)).length === 1, { timeoutMs: 30_000, description: 'the job runs' });

    const stoppedAt = Date.now();
    await s.runner.stop(job.jobId);
    const aborted = await waitFor(() => (worker as WorkerProcess).messages.find((m) => m.type === 'aborted' && m.jobId === job.jobId), {
      timeoutMs: 10_000,
      description: 'the worker process aborts the handler',
    });
    const seenAfterMs = aborted.at - stoppedAt;
    log(`stop seen across processes on ${dialect}`, { seenAfterMs });
    expect(aborted.reason).toBe('stopped');
    expect(seenAfterMs).toBeLessThan(2500); // heartbeat 300 ms + a step of 100 ms, with room for a loaded machine
    await sleep(1000);
    expect((await jobRow(s.ds, job.jobId)).status).toBe('stopped');
    expect((await ledgerOf(s.ds, job.jobId)).map((r: any) => r.outcome)).toEqual(['stopped']);
  }, 120_000);
});
