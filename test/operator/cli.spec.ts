/**
 * Every CLI command, run as a real child process (test/operator/cli-app.mjs, a user's jobs-cli on
 * the built library) against a real database; the test inspects the database through an app of
 * its own whose worker is off.
 */
import type { INestApplication } from '@nestjs/common';
import { JobRunnerService, JobStatus, ManagedJobsOperatorService } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { buildLibrary } from '../support/processes.js';
import { killAllCli, runCli, startCli } from './cli-process.js';
import { operatorJobs } from './operator-jobs.js';

let library: string;
beforeAll(() => {
  library = buildLibrary();
}, 180_000);
afterEach(() => killAllCli());

describe.each(dialects)('the CLI on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let operator: ManagedJobsOperatorService;
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(library, db, args, env);
  const status = async (jobId: string) => (await runner.find(jobId))?.status ?? null;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: operatorJobs, options: { worker: { enabled: false } } });
    runner = app.get(JobRunnerService);
    operator = app.get(ManagedJobsOperatorService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('prints help, and refuses unknown commands and flags with a message on stderr', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['work', 'stats', 'list', 'show', 'retry', 'forget', 'flush', 'prune', 'clear', 'pause', 'resume', 'workers', 'schedules', 'schedule:trigger', 'expire-files']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    const workHelp = await cli(['work', '--help']);
    expect(workHelp).toMatchObject({ code: 0, stdout: expect.stringContaining('--stop-when-empty') });
    const unknown = await cli(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('Unknown command "frobnicate"') });
    const badFlag = await cli(['list', '--bogus']);
    expect(badFlag).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/bogus[\s\S]*Usage: list/) });
    const missing = await cli(['prune']);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('--days is required') });
    const noJson = await cli(['pause', 'q', '--json']);
    expect(noJson.code).toBe(2);
  });

  it('read commands start no worker and no ticker (even where the app runs one), and print aligned tables or --json', async () => {
    const a = await runner.dispatch('op-echo', { value: 1 }, { ownerId: 'u1' });
    const b = await runner.dispatch('op-fail', {}, { queue: 'q2' });
    const stats = await cli(['stats', '--json']); // the app's worker is on here
    expect(stats.code).toBe(0);
    const parsed = JSON.parse(stats.stdout);
    expect(parsed.queues.find((q: any) => q.queue === 'default')).toMatchObject({ pending: 1, paused: false });
    expect(parsed.queues.find((q: any) => q.queue === 'q2')).toMatchObject({ pending: 1 });
    expect(parsed.workers).toBe(0);
    const table = await cli(['stats']);
    const lines = table.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('QUEUE'))!;
    const row = lines.find((l) => l.startsWith('default'))!;
    expect(header.indexOf('PENDING') + 'PENDING'.length).toBe(row.indexOf(' 1 ') + 2); // right-aligned numbers
    const list = JSON.parse((await cli(['list', '--status', 'pending', '--json'])).stdout);
    expect(list.data.map((j: any) => j.jobId)).toEqual([b.jobId, a.jobId]);
    const listQ = JSON.parse((await cli(['list', '--queue', 'q2', '--type', 'op-fail', '--limit', '1', '--json'])).stdout);
    expect(listQ).toMatchObject({ data: [{ jobId: b.jobId }], meta: { limit: 1, total: 1 } });
    expect((await cli(['list'])).stdout).toMatch(/^JOB ID\s+TYPE\s+QUEUE\s+STATUS/m);
    const shown = JSON.parse((await cli(['show', a.jobId, '--json'])).stdout);
    expect(shown).toMatchObject({ job: { jobId: a.jobId, status: 'pending' }, attempts: [], steps: [], files: [], logs: [] });
    expect((await cli(['show', a.jobId])).stdout).toMatch(/^Job:\s+\S+/m);
    const missing = await cli(['show', '0190b2a4-0000-7000-8000-000000000000']);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('was not found') });
    expect(JSON.parse((await cli(['workers', '--json'])).stdout)).toEqual([]);
    expect(JSON.parse((await cli(['schedules', '--json'])).stdout).map((s: any) => s.name)).toEqual(['nightly']);
    // Nothing ran: no worker was started by any of these.
    expect(await status(a.jobId)).toBe(JobStatus.Pending);
    expect(await status(b.jobId)).toBe(JobStatus.Pending);
    await operator.clearQueue('default');
    await operator.clearQueue('q2');
  });

  it('work --once runs one job; --max-jobs n runs n; --stop-when-empty drains and exits; all where the app turns the worker off', async () => {
    const off = { NMJ_APP_WORKER: 'off' };
    const jobs = await runner.dispatchMany('op-echo', Array.from({ length: 6 }, (_, i) => ({ payload: { value: i } })));
    const count = async () => {
      const all = await Promise.all(jobs.map((j) => status(j.jobId)));
      return all.filter((s) => s === JobStatus.Completed).length;
    };
    const once = await cli(['work', '--once'], off);
    expect(once).toMatchObject({ code: 0, stderr: expect.stringContaining('--once') });
    expect(await count()).toBe(1);
    const two = await cli(['work', '--max-jobs', '2', '--concurrency', '1'], off);
    expect(two.code).toBe(0);
    expect(await count()).toBe(3);
    const rest = await cli(['work', '--stop-when-empty'], off);
    expect(rest).toMatchObject({ code: 0, stderr: expect.stringContaining('--stop-when-empty') });
    expect(await count()).toBe(6);
    const logs = (await operator.findJob(jobs[0].jobId))!.logs;
    expect(logs).toEqual([expect.objectContaining({ level: 'info', message: 'echo' })]);
  });

  it('work --max-time stops after that many seconds; work honours SIGTERM and hands a running job back', async () => {
    const started = Date.now();
    const timed = await cli(['work', '--max-time', '1', '--queues', 'empty-q'], { NMJ_APP_WORKER: 'off' });
    expect(timed).toMatchObject({ code: 0, stderr: expect.stringContaining('--max-time') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);

    const slow = await runner.dispatch('op-slow', { ms: 60_000 }, { queue: 'slow-q' });
    const worker = startCli(library, db, ['work', '--queues', 'slow-q'], { NMJ_APP_WORKER: 'off' });
    await waitFor(async () => (await status(slow.jobId)) === JobStatus.Running, { timeoutMs: 30_000 });
    const live = await waitFor(async () => {
      const rows = await operator.workers();
      return rows.length ? rows : null;
    });
    expect(live).toEqual([expect.objectContaining({ pid: worker.child.pid, queues: ['slow-q'], running: expect.any(Number) })]);
    worker.child.kill('SIGTERM');
    const result = await worker.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('received SIGTERM');
    const back = (await runner.find(slow.jobId))!;
    expect(back.status).toBe(JobStatus.Pending); // handed back, no try used
    expect(back.attempts).toBe(0);
    expect(await operator.workers()).toEqual([]); // a clean shutdown removes its row
    await operator.clearQueue('slow-q');
  });

  it('retry, forget, flush, prune, clear, pause, resume, schedule:trigger and expire-files change what they say, audited', async () => {
    const auditBefore = (await operator.auditLog()).meta.total;
    const failed = await runner.dispatch('op-fail', {}, { queue: 'cmd-q' });
    await cli(['work', '--queues', 'cmd-q', '--stop-when-empty'], { NMJ_APP_WORKER: 'off' });
    expect(await status(failed.jobId)).toBe(JobStatus.Failed);

    const retried = await cli(['retry', failed.jobId, '--reason', 'upstream fixed']);
    expect(retried).toMatchObject({ code: 0, stdout: 'Retried 1 job(s).\n' });
    expect(await status(failed.jobId)).toBe(JobStatus.Pending);
    const notRetried = await cli(['retry', failed.jobId]);
    expect(notRetried).toMatchObject({ code: 1, stderr: expect.stringContaining('not retried') });
    expect((await cli(['retry'])).code).toBe(2);
    await cli(['work', '--queues', 'cmd-q', '--stop-when-empty'], { NMJ_APP_WORKER: 'off' });
    expect((await cli(['retry', '--failed', '--type', 'op-fail', '--queue', 'cmd-q'])).stdout).toBe('Retried 1 job(s).\n');
    await cli(['work', '--queues', 'cmd-q', '--stop-when-empty'], { NMJ_APP_WORKER: 'off' });

    const pending = await runner.dispatch('op-echo', {}, { queue: 'hold-q' });
    const refused = await cli(['forget', pending.jobId]);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('never deleted') });
    expect(await status(pending.jobId)).toBe(JobStatus.Pending);
    expect((await cli(['forget', failed.jobId])).stdout).toBe('Deleted 1 job(s).\n');
    expect(await runner.find(failed.jobId)).toBeNull();

    const f2 = await runner.dispatch('op-fail', {}, { queue: 'cmd-q' });
    const done = await runner.dispatch('op-echo', {}, { queue: 'cmd-q' });
    await cli(['work', '--queues', 'cmd-q', '--stop-when-empty'], { NMJ_APP_WORKER: 'off' });
    expect((await cli(['flush', '--older-than-days', '1'])).stdout).toBe('Deleted 0 failed job(s).\n');
    expect((await cli(['flush'])).stdout).toBe('Deleted 1 failed job(s).\n');
    expect(await runner.find(f2.jobId)).toBeNull();
    expect(await status(done.jobId)).toBe(JobStatus.Completed);
    expect((await cli(['prune', '--days', '1'])).stdout).toBe('Deleted 0 finished job(s).\n');
    expect((await cli(['prune', '--days', '0'])).stdout).toMatch(/^Deleted [1-9]\d* finished job\(s\)\.\n$/);
    expect(await runner.find(done.jobId)).toBeNull();
    expect(await status(pending.jobId)).toBe(JobStatus.Pending);

    expect((await cli(['clear', 'hold-q'])).stdout).toBe('Deleted 1 pending job(s) of queue hold-q.\n');
    expect(await runner.find(pending.jobId)).toBeNull();

    expect((await cli(['pause', 'p-q'])).code).toBe(0);
    expect((await operator.stats()).queues.find((q) => q.queue === 'p-q')?.paused).toBe(true);
    expect((await cli(['resume', 'p-q'])).code).toBe(0);
    expect((await operator.stats()).queues.find((q) => q.queue === 'p-q')?.paused).toBe(false);

    const trigger = await cli(['schedule:trigger', 'nightly']);
    expect(trigger.stdout).toMatch(/^Dispatched job \S+ \(op-echo\)\.\n$/);
    const unknown = await cli(['schedule:trigger', 'nope']);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('nope') });
    expect(await cli(['expire-files'])).toMatchObject({ code: 0, stdout: 'Deleted 0 expired file(s).\n' });

    const audit = (await operator.auditLog({ limit: 100 })).data.slice(0, (await operator.auditLog()).meta.total - auditBefore).reverse();
    expect(audit.map((e) => e.action)).toEqual([
      'retry',
      'retry',
      'retry',
      'delete',
      'delete',
      'delete',
      'delete',
      'delete',
      'delete',
      'clearQueue',
      'pauseQueue',
      'resumeQueue',
      'schedule.trigger',
    ]);
    expect(audit[0]).toMatchObject({ actor: expect.stringMatching(/^cli:.+@.+$/), reason: 'upstream fixed', count: 1 });
    await operator.clearQueue('default');
  });
});
