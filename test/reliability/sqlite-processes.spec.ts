/**
 * Two worker processes on one SQLite file (WAL, the store's own connection with busy retry):
 * 1,000 jobs dispatched while they run, none lost, none run twice, and "database is locked"
 * never reaches a caller (dispatch, or ctx writes in a handler) nor shows up in their logs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, waitFor } from '../support/databases.js';
import { auditLedger, expectCleanAudit, summary } from '../support/audit.js';
import { killAllWorkers, startWorkers } from '../support/processes.js';
import { countWhere, openScenario, TERMINAL, type Scenario } from './scenario.js';

const log = (label: string, figures: unknown) => process.stderr.write(`\n[reliability] ${label}: ${JSON.stringify(figures)}\n`);

describe('two worker processes on one SQLite file', () => {
  let s: Scenario | undefined;

  afterAll(async () => {
    await killAllWorkers();
    await s?.close();
  });

  it('1,000 jobs: 0 lost, 0 duplicates, no "database is locked"', async () => {
    s = await openScenario(await createTestDatabase('sqlite'), {
      NMJ_CONCURRENCY: 4,
      NMJ_LEASE_MS: 10_000,
      NMJ_HEARTBEAT_INTERVAL_MS: 500,
      NMJ_REAPER_INTERVAL_MS: 1000,
      NMJ_POLL_INTERVAL_MS: 100, // no NOTIFY on SQLite: other processes find work by polling
    });
    const workers = await startWorkers(2, s.env, 'sq');
    const total = 1000;
    const startedAt = Date.now();
    // Dispatch while the workers claim, complete and checkpoint: the writes contend for the file.
    for (let i = 0; i < total; i += 50) {
      await s.runner.dispatchMany('work', Array.from({ length: 50 }, (_, k) => ({ payload: { ms: (i + k) % 3, steps: 2, saveState: true } })));
      await sleep(20);
    }
    await waitFor(async () => (await countWhere(s!.ds, TERMINAL)) === total, { timeoutMs: 180_000, intervalMs: 250 }).catch(async (e) => {
      throw new Error(`${e.message}\nterminal: ${await countWhere(s!.ds, TERMINAL)}\n${workers.map((w) => `--- ${w.id} alive=${w.alive}\n${w.tail(30)}`).join('\n')}`);
    });
    const elapsedMs = Date.now() - startedAt;

    const report = await auditLedger(s.ds);
    const locked = workers.flatMap((w) => w.lines.filter((l) => /database is locked|SQLITE_BUSY/i.test(l)));
    const perWorker = Object.fromEntries(workers.map((w) => [w.id, [...report.ledger.values()].flat().filter((r) => r.worker_id === w.id).length]));
    log('SQLite, 2 processes', { elapsedMs, lockedMessages: locked.length, perWorker, ...summary(report) });
    expectCleanAudit(report);
    expect(report.byStatus).toEqual({ completed: total });
    expect(report.ranTwice).toEqual([]);
    expect(report.restarted).toEqual([]);
    expect(locked).toEqual([]);
    for (const w of workers) expect(perWorker[w.id]).toBeGreaterThan(0);
    for (const w of workers) expect(w.alive).toBe(true);
  }, 240_000);
});
