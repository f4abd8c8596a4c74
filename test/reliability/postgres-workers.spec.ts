/**
 * Reliability proof on PostgreSQL and MariaDB with real OS processes (test/reliability/worker-app.mjs):
 * throughput under contention, kill -9, a frozen zombie, long heartbeats and graceful shutdown.
 * Every scenario ends with the ledger audit (test/support/audit.ts). Figures are logged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, waitFor } from '../support/databases.js';
import { auditLedger, expectCleanAudit, summary } from '../support/audit.js';
import { killAllWorkers, startWorkers, waitForExit } from '../support/processes.js';
import { countWhere, openScenario, TERMINAL, type Scenario } from './scenario.js';
import type { DataSource } from 'typeorm';

/** Short leases so that failures show quickly; heartbeats well inside them. */
const FAST = { NMJ_LEASE_MS: 3000, NMJ_HEARTBEAT_INTERVAL_MS: 500, NMJ_REAPER_INTERVAL_MS: 1000, NMJ_POLL_INTERVAL_MS: 500 };

/** `$1` on PostgreSQL, `?` on MariaDB: the data source's own placeholder. */
const p1 = (ds: DataSource) => ds.driver.createParameter('p', 0);
const jobRow = async (ds: DataSource, jobId: string) => (await ds.query(`SELECT * FROM managed_jobs WHERE job_id = ${p1(ds)}`, [jobId]))[0];
const ledgerOf = async (ds: DataSource, jobId: string) =>
  ds.query(`SELECT fence, attempt, worker_id, outcome FROM managed_job_attempts WHERE job_id = ${p1(ds)} ORDER BY fence`, [jobId]);
const effectsOf = async (ds: DataSource, jobId: string) =>
  ds.query(`SELECT fence, worker, phase FROM job_effects WHERE job_id = ${p1(ds)} ORDER BY id`, [jobId]);
const runningOn = async (ds: DataSource, worker: string) =>
  Number((await ds.query(`SELECT count(*) AS n FROM managed_jobs WHERE status = 'running' AND lease_owner = ${p1(ds)}`, [worker]))[0].n);

const log = (label: string, figures: unknown) => process.stderr.write(`\n[reliability] ${label}: ${JSON.stringify(figures)}\n`);

describe.each(['postgres', 'mariadb'] as const)('many worker processes on %s', (dialect) => {
  let s: Scenario | undefined;

  afterEach(async () => {
    await killAllWorkers();
    await s?.close();
    s = undefined;
  });

  it('4 processes × concurrency 4 run 5,000 jobs: none lost, none run twice, audit clean', async () => {
    s = await openScenario(await createTestDatabase(dialect), {
      NMJ_CONCURRENCY: 4,
      NMJ_LEASE_MS: 10_000,
      NMJ_HEARTBEAT_INTERVAL_MS: 1000,
      NMJ_REAPER_INTERVAL_MS: 2000,
      NMJ_POLL_INTERVAL_MS: 500,
    });
    const workers = await startWorkers(4, s.env);
    const total = 5000;
    const startedAt = Date.now();
    for (let i = 0; i < total; i += 500) {
      await s.runner.dispatchMany(
        'work',
        Array.from({ length: 500 }, (_, k) => ({ payload: { ms: (i + k) % 3 } })),
      );
    }
    await waitFor(async () => (await countWhere(s!.ds, TERMINAL)) === total, { timeoutMs: 180_000, intervalMs: 500 });
    const elapsedMs = Date.now() - startedAt;

    const report = await auditLedger(s.ds);
    const perWorker = Object.fromEntries(
      workers.map((w) => [w.id, [...report.ledger.values()].flat().filter((r) => r.worker_id === w.id).length]),
    );
    log('5,000 jobs × 4 processes', { ...summary(report), elapsedMs, jobsPerSecond: Math.round(total / (elapsedMs / 1000)), perWorker });
    expectCleanAudit(report);
    expect(report.byStatus).toEqual({ completed: total });
    expect(report.ledgerOutcomes).toEqual({ completed: total });
    expect(report.ranTwice).toEqual([]);
    expect(report.restarted).toEqual([]);
    // Every process took a share (SKIP LOCKED spreads the claims).
    for (const w of workers) expect(perWorker[w.id]).toBeGreaterThan(0);
  }, 240_000);

  it('kill -9 mid-job: the job leaves running within lease + reaper interval and completes once elsewhere; a non-idempotent one fails as lost', async () => {
    s = await openScenario(await createTestDatabase(dialect), { ...FAST, NMJ_CONCURRENCY: 2 });
    const [victim] = await startWorkers(1, s.env, 'victim');
    const payload = { firstRunMs: 60_000, ms: 2000, steps: 20 }; // the victim's run outlives it
    const [safe] = await s.runner.dispatchMany('work', [{ payload }]);
    const [unsafe] = await s.runner.dispatchMany('work-unsafe', [{ payload }]);
    await waitFor(async () => (await runningOn(s!.ds, 'victim1')) === 2 && (await effectsOf(s!.ds, unsafe.jobId)).length === 1, {
      timeoutMs: 30_000,
      description: 'both jobs running on the victim',
    });
    const survivors = await startWorkers(2, s.env, 'survivor');
    await sleep(500); // mid-job

    const killedAt = Date.now();
    await victim.kill();
    const left = await waitFor(
      async () => {
        const [a, b] = [await jobRow(s!.ds, safe.jobId), await jobRow(s!.ds, unsafe.jobId)];
        return a.status !== 'running' || a.lease_owner !== 'victim1' ? (b.status !== 'running' ? Date.now() - killedAt : null) : null;
      },
      { timeoutMs: 30_000, intervalMs: 50, description: 'the victim’s jobs leave running' },
    );
    await waitFor(async () => (await jobRow(s!.ds, safe.jobId)).status === 'completed', { timeoutMs: 30_000 });
    const recoveredMs = Date.now() - killedAt;
    await sleep(3000); // time for a wrongful re-run of the non-idempotent job to show

    const a = await jobRow(s.ds, safe.jobId);
    const b = await jobRow(s.ds, unsafe.jobId);
    const report = await auditLedger(s.ds);
    log('kill -9', { leftRunningAfterMs: left, completedAfterMs: recoveredMs, ...summary(report) });
    expectCleanAudit(report);
    // Within lease + reaper interval (+ generous slack for a loaded machine and the poll).
    expect(left).toBeLessThan(3000 + 1000 + 4000);

    expect(a.status).toBe('completed');
    expect(a.attempts).toBe(1); // the lost run did not use up its only try
    const aLedger = await ledgerOf(s.ds, safe.jobId);
    expect(aLedger.map((r: any) => [r.worker_id, r.outcome])).toEqual([
      ['victim1', 'lost'],
      [expect.stringMatching(/^survivor/), 'completed'],
    ]);
    const aEffects = await effectsOf(s.ds, safe.jobId);
    expect(aEffects.filter((e: any) => e.phase === 'end')).toHaveLength(1);
    expect(aEffects.filter((e: any) => e.phase === 'end')[0].worker).toMatch(/^survivor/);

    expect(b.status).toBe('failed');
    // The owner reads a plain reason; which worker was lost is in the ledger (below), not in it.
    expect(b.failed_reason).toMatch(/stopped unexpectedly/);
    expect(b.failed_reason).not.toContain('victim1');
    expect(b.failed_reason).toMatch(/not marked idempotent/);
    expect((await ledgerOf(s.ds, unsafe.jobId)).map((r: any) => [r.worker_id, r.outcome])).toEqual([['victim1', 'lost']]);
    expect(await effectsOf(s.ds, unsafe.jobId)).toEqual([{ fence: 1, worker: 'victim1', phase: 'start' }]); // never re-run
    // The failure is announced once, by whichever survivor reaped it.
    const failedEvents = survivors.flatMap((w) => w.events(unsafe.jobId)).filter((e) => e.name === 'managed-job.failed');
    expect(failedEvents).toHaveLength(1);
  }, 120_000);

  it('zombie: a worker frozen past its lease cannot change the record or emit events after it wakes', async () => {
    s = await openScenario(await createTestDatabase(dialect), { ...FAST, NMJ_CONCURRENCY: 1 });
    const [zombie] = await startWorkers(1, s.env, 'zombie');
    // Ignores ctx.signal and keeps writing progress and state after fenced writes: the worst case.
    const [job] = await s.runner.dispatchMany('work', [{ payload: { ms: 6000, steps: 60, cooperative: false, saveState: true, swallowFenced: true } }]);
    await waitFor(async () => {
      const row = await jobRow(s!.ds, job.jobId);
      return row.lease_owner === 'zombie1' && row.progress_percentage >= 10;
    }, { timeoutMs: 30_000 });

    zombie.freeze();
    const frozenAt = Date.now();
    const [heir] = await startWorkers(1, s.env, 'heir');
    await waitFor(async () => (await jobRow(s!.ds, job.jobId)).status === 'completed', { timeoutMs: 60_000 });
    const reassignedAfterMs = Date.now() - frozenAt;
    const settled = await jobRow(s.ds, job.jobId);
    expect(settled.result).toEqual({ worker: 'heir1', attempt: 1, fence: 2 });
    expect(settled.state).toEqual({ step: 60, worker: 'heir1' });

    const resumedAt = Date.now();
    zombie.resume();
    // The zombie's handler finishes its loop (its writes fenced) and records its own end.
    await waitFor(async () => (await effectsOf(s!.ds, job.jobId)).some((e: any) => e.worker === 'zombie1' && e.phase === 'end'), {
      timeoutMs: 30_000,
      description: 'the zombie finishes its handler',
    });
    await sleep(2000); // its completion write, heartbeat and progress flushes have all had their go

    const after = await jobRow(s.ds, job.jobId);
    expect(after).toEqual(settled); // not one column changed: status, result, progress, state, updated_at, fence
    const fenced = zombie.messages.filter((m) => m.type === 'fenced' && m.jobId === job.jobId);
    expect(fenced.length).toBeGreaterThan(0); // it did try to write after waking
    // After it wakes, none of its writes land, so it emits nothing. (Events stamped between
    // `freeze()` and `resume()` are the last writes before SIGSTOP took effect: under load the
    // child still ran a few ms after the signal was sent, with its write already committed.)
    const stale = zombie.events(job.jobId).filter((e) => e.at >= resumedAt);
    expect(stale).toEqual([]);
    expect(zombie.events(job.jobId).map((e) => e.name)).toEqual(
      expect.not.arrayContaining(['managed-job.completed', 'managed-job.failed']),
    );
    expect(heir.events(job.jobId).filter((e) => e.name === 'managed-job.completed')).toHaveLength(1);
    expect((await ledgerOf(s.ds, job.jobId)).map((r: any) => [r.worker_id, r.outcome])).toEqual([
      ['zombie1', 'lost'],
      ['heir1', 'completed'],
    ]);
    const report = await auditLedger(s.ds);
    log('zombie', { reassignedAfterMs, zombieFencedWrites: fenced.length, staleEvents: stale.length, resumedAfterMs: resumedAt - frozenAt, ...summary(report) });
    expectCleanAudit(report);
  }, 150_000);

  it('a job that heartbeats for 3× the lease is never reaped', async () => {
    s = await openScenario(await createTestDatabase(dialect), { ...FAST, NMJ_CONCURRENCY: 2 });
    await startWorkers(2, s.env, 'hb');
    const jobs = await s.runner.dispatchMany('work', Array.from({ length: 4 }, () => ({ payload: { ms: 3 * 3000 + 1000, steps: 10 } })));
    await waitFor(async () => (await countWhere(s!.ds, TERMINAL)) === 4, { timeoutMs: 90_000, intervalMs: 250 });
    const report = await auditLedger(s.ds);
    log('heartbeat 3× lease', summary(report));
    expectCleanAudit(report);
    expect(report.byStatus).toEqual({ completed: 4 });
    expect(report.ledgerOutcomes).toEqual({ completed: 4 }); // no `lost`: never reaped
    for (const job of jobs) expect(report.effects.get(job.jobId)!.map((e) => e.phase)).toEqual(['start', 'end']);
  }, 120_000);

  it('SIGTERM: no claims after the signal, short jobs finish, long ones are handed back in time and completed elsewhere', async () => {
    const shutdownTimeoutMs = 3000; // longer than the lease: the shutdown must keep renewing it
    s = await openScenario(await createTestDatabase(dialect), { ...FAST, NMJ_LEASE_MS: 2000, NMJ_HEARTBEAT_INTERVAL_MS: 300, NMJ_REAPER_INTERVAL_MS: 500, NMJ_SHUTDOWN_TIMEOUT_MS: shutdownTimeoutMs });
    // A process that only reaps (its queue has no jobs): it would steal any run whose lease lapses.
    await startWorkers(1, { ...s.env, NMJ_QUEUES: 'nothing-here' }, 'reaper');
    const first = await s.runner.dispatchMany('work', [
      { payload: { ms: 1500, steps: 3 }, options: { priority: 10 } },
      { payload: { ms: 1500, steps: 3 }, options: { priority: 10 } },
      { payload: { ms: 8000, steps: 80 }, options: { priority: 10 } }, // long, cooperative
      { payload: { ms: 8000, steps: 80, cooperative: false }, options: { priority: 10 } }, // long, ignores the signal
    ]);
    const rest = await s.runner.dispatchMany('work', Array.from({ length: 4 }, () => ({ payload: { ms: 200 } })));
    const [leaving] = await startWorkers(1, { ...s.env, NMJ_CONCURRENCY: 4 }, 'leaving');
    await waitFor(async () => (await runningOn(s!.ds, 'leaving1')) === 4, { timeoutMs: 30_000 });
    await sleep(300);

    const signalledAt = Date.now();
    leaving.terminate();
    const exit = await waitForExit(leaving, shutdownTimeoutMs + 10_000);
    const exitedAfterMs = exit.at - signalledAt;
    const ledger = await s.ds.query(`SELECT job_id, outcome FROM managed_job_attempts WHERE worker_id = 'leaving1'`);
    const outcome = new Map(ledger.map((r: any) => [r.job_id, r.outcome]));
    // Exactly the four claimed before the signal: the free slots after the short jobs took nothing.
    expect(ledger).toHaveLength(4);
    expect([first[0], first[1]].map((j) => outcome.get(j.jobId))).toEqual(['completed', 'completed']);
    expect([first[2], first[3]].map((j) => outcome.get(j.jobId))).toEqual(['released', 'released']);
    for (const j of rest) expect((await jobRow(s.ds, j.jobId)).status).toBe('pending');
    expect(exitedAfterMs).toBeLessThan(shutdownTimeoutMs + 1000 + 4000);

    await startWorkers(1, s.env, 'next');
    await waitFor(async () => (await countWhere(s!.ds, TERMINAL)) === 8, { timeoutMs: 60_000, intervalMs: 250 });
    const report = await auditLedger(s.ds);
    log('SIGTERM', { exitedAfterMs, ...summary(report) });
    expectCleanAudit(report);
    expect(report.byStatus).toEqual({ completed: 8 });
    expect(report.ledgerOutcomes).toEqual({ completed: 8, released: 2 });
    for (const j of [first[2], first[3]]) {
      expect(report.rows.get(j.jobId)!.attempts).toBe(1); // the hand-back did not use up a try
      expect(report.effects.get(j.jobId)!.filter((e) => e.phase === 'end').map((e) => e.worker)).toEqual(['next1']);
    }
  }, 150_000);
});
