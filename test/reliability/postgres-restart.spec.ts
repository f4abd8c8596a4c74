/**
 * PostgreSQL stopped and started again under running worker processes, on a server of its own
 * (test/support/dedicated-postgres.ts): the workers carry on without a restart, nothing is lost,
 * and only jobs that were in flight at the restart run again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../support/databases.js';
import { auditLedger, expectCleanAudit, summary } from '../support/audit.js';
import { startDedicatedPostgres, type DedicatedPostgres } from '../support/dedicated-postgres.js';
import { killAllWorkers, startWorkers } from '../support/processes.js';
import { countWhere, openScenario, TERMINAL, type Scenario } from './scenario.js';

const log = (label: string, figures: unknown) => process.stderr.write(`\n[reliability] ${label}: ${JSON.stringify(figures)}\n`);

describe('PostgreSQL restart under running workers', () => {
  let server: DedicatedPostgres | undefined;
  let s: Scenario | undefined;

  afterAll(async () => {
    await killAllWorkers();
    await s?.app.close().catch(() => undefined);
    await server?.destroy();
  });

  it('workers recover without a restart: 0 lost, re-runs only of jobs in flight', async () => {
    server = await startDedicatedPostgres();
    s = await openScenario(await server.createDatabase(), {
      NMJ_CONCURRENCY: 4,
      NMJ_LEASE_MS: 5000,
      NMJ_HEARTBEAT_INTERVAL_MS: 500,
      NMJ_REAPER_INTERVAL_MS: 1000,
      NMJ_POLL_INTERVAL_MS: 1000,
    });
    const workers = await startWorkers(2, s.env, 'pgr');
    // An idle worker (its queue is empty) has no job keeping its process busy through the outage.
    const [idle] = await startWorkers(1, { ...s.env, NMJ_QUEUES: 'nothing-here' }, 'idle');
    const total = 800;
    await s.runner.dispatchMany('work', Array.from({ length: total }, () => ({ payload: { ms: 80, steps: 2 } })));
    await waitFor(async () => (await countWhere(s!.ds, `status = 'completed'`)) >= 150, { timeoutMs: 60_000, intervalMs: 100 });

    const [{ now: stoppedAtDb }] = await s.ds.query(`SELECT timezone('UTC', now())::timestamp(3) AS now`);
    const doneBefore = await countWhere(s.ds, `status = 'completed'`);
    const stoppedAt = Date.now();
    await server.stop();
    // Down for longer than the lease: in-flight runs lose their leases and their outcome writes
    // give up, the hardest case (a shorter outage, measured at ~3 s, re-ran nothing).
    await sleep(6500);
    await server.start();
    const restartedAt = Date.now();
    // Recovered: completions flow again (the spec's own pool reconnects as the workers' do).
    await waitFor(async () => (await countWhere(s!.ds, `status = 'completed'`)) > doneBefore + 20, { timeoutMs: 60_000, intervalMs: 100 });
    const recoveredMs = Date.now() - restartedAt;
    await waitFor(async () => (await countWhere(s!.ds, TERMINAL)) === total, { timeoutMs: 120_000, intervalMs: 250 });

    const report = await auditLedger(s.ds);
    const rerun = [...report.ledger.values()].filter((runs) => runs.length > 1 || (report.effects.get(runs[0].job_id) ?? []).filter((e) => e.phase === 'start').length > 1);
    const reconnected = workers.filter((w) => w.lines.some((l) => l.includes('Reconnected to PostgreSQL for LISTEN')));
    log('PostgreSQL restart', {
      downMs: restartedAt - stoppedAt,
      recoveredMs,
      completedBeforeStop: doneBefore,
      reruns: rerun.length,
      listenersReconnected: reconnected.length,
      ...summary(report),
    });
    expectCleanAudit(report);
    expect(report.byStatus).toEqual({ completed: total });
    for (const w of [...workers, idle]) expect(w.alive).toBe(true); // no process exited or needed a restart
    expect(reconnected).toHaveLength(workers.length);
    // Only jobs in flight at the restart ran again: their first run started before the stop,
    // and there cannot be more of them than slots (2 workers × 4).
    expect(rerun.length).toBeLessThanOrEqual(8);
    for (const runs of rerun) expect(runs[0].started_at.getTime()).toBeLessThanOrEqual(new Date(stoppedAtDb).getTime());
    expect(report.ranTwice.length).toBeLessThanOrEqual(rerun.length);
  }, 280_000);
});
