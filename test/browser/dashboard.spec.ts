/**
 * The operator dashboard in a real browser (Debian's chromium, headless) against a real app on
 * SQLite: the gate (403 and no data for the page, its files, its API reads and its live feed),
 * the overview's counts equal `stats()`, a running job's bar moving without reload, retry and
 * delete from the failed list and pause from the overview changing the database, a job's attempts
 * and error, polling when the socket is unavailable; and throughout, no request to another origin
 * and no console error. Screenshots go to test-artifacts/dashboard/ (and to docs/dashboard/ with
 * DASHBOARD_SCREENSHOTS=docs, for the README).
 */
import type { INestApplication } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { io } from 'socket.io-client';
import { JobRunnerService, ManagedJobsOperatorService, ManagedSchedulesService } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, tmpDir, waitFor, type TestDatabase } from '../support/databases.js';
import { dashboardJobs, dashboardSwitches } from './dashboard-jobs.js';

const COOKIE = 'ops_session';
const SECRET = 'let-me-in';
const SHOTS = [join('test-artifacts', 'dashboard'), ...(process.env.DASHBOARD_SCREENSHOTS === 'docs' ? [join('docs', 'dashboard')] : [])];

describe('operator dashboard in headless chromium (SQLite)', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let browser: BrowserContext;
  let origin: string;
  let runner: JobRunnerService;
  let operator: ManagedJobsOperatorService;
  const offOrigin: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    app = await createTestApp(db, {
      providers: dashboardJobs,
      listen: true,
      options: {
        worker: { queues: ['default', 'reports'], concurrency: 4 },
        operator: {
          enabled: true,
          // A session cookie, as a real app would check (it also reaches the socket handshake).
          authorize: (req) => new RegExp(`(?:^|;\\s*)${COOKIE}=${SECRET}(?:;|$)`).test(String(req.headers.cookie ?? '')),
          actor: () => 'test-operator',
        },
        schedules: [{ name: 'nightly-report', cron: '0 3 * * *', job: 'dash-echo', payload: { value: 'nightly' } }],
      },
    });
    origin = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    runner = app.get(JobRunnerService);
    operator = app.get(ManagedJobsOperatorService);
    browser = await chromium.launchPersistentContext(tmpDir('chromium-dashboard'), {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 800 },
      // Dates show in the viewer's zone and locale, not the server's.
      locale: 'en-GB',
      timezoneId: 'Asia/Tokyo',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await browser.addCookies([{ name: COOKIE, value: SECRET, url: origin }]);
    for (const dir of SHOTS) mkdirSync(dir, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.drop();
  });

  afterEach(() => {
    const [requests, errors] = [offOrigin.splice(0), consoleErrors.splice(0)];
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
  });

  async function open(hash = '#/', viewport?: { width: number; height: number }): Promise<Page> {
    const page = await browser.newPage();
    if (viewport) await page.setViewportSize(viewport);
    page.on('request', (req) => {
      if (!req.url().startsWith(`${origin}/`) && !req.url().startsWith('data:')) offOrigin.push(req.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${origin}/managed-jobs${hash}`);
    await page.locator('body[data-loaded="true"]').waitFor({ timeout: 15_000 });
    return page;
  }

  async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
    for (const dir of SHOTS) await page.screenshot({ path: join(dir, `${name}.png`), fullPage });
  }

  async function settle(): Promise<void> {
    await runner.drain({ timeoutMs: 20_000 });
  }

  it('refuses the page, its files, its data and its live feed without authorization (403, no data)', async () => {
    const job = await runner.dispatch('dash-echo', { value: 'secret-payload' });
    await runner.waitFor(job.jobId, { timeoutMs: 20_000 });
    for (const path of ['/managed-jobs', '/managed-jobs/', '/managed-jobs/assets/dashboard.js', '/managed-jobs/assets/socket.io.esm.min.js', '/managed-jobs/api/stats', '/managed-jobs/api/throughput', `/managed-jobs/api/jobs/${job.jobId}`]) {
      for (const cookie of [undefined, `${COOKIE}=wrong`]) {
        const response = await fetch(`${origin}${path}`, { headers: cookie ? { cookie } : {} });
        const text = await response.text();
        expect([path, response.status]).toEqual([path, 403]);
        expect(text).not.toContain('secret-payload');
        expect(text).not.toContain(job.jobId);
        expect(text).not.toContain('<html');
      }
    }
    const page = await fetch(`${origin}/managed-jobs`, { headers: { cookie: `${COOKIE}=${SECRET}` } });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/\sstyle=|<style/); // no inline style
    expect(html).toContain('data-namespace="/managed-jobs/operator"');

    // The live feed: the handshake is refused without the cookie, and no event reaches the refused socket.
    const refused = io(`${origin}/managed-jobs/operator`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie: `${COOKIE}=wrong` } });
    const heard: unknown[] = [];
    refused.onAny((event, data) => heard.push([event, data]));
    const error = await new Promise<Error>((resolve) => refused.once('connect_error', resolve));
    expect(error.message).toMatch(/Forbidden/);
    const allowed = io(`${origin}/managed-jobs/operator`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie: `${COOKIE}=${SECRET}` } });
    await new Promise<void>((resolve, reject) => {
      allowed.once('connect', resolve);
      allowed.once('connect_error', reject);
    });
    const seen: string[] = [];
    allowed.on('job.completed', (data: { jobId: string }) => seen.push(data.jobId));
    const next = await runner.dispatch('dash-echo', { value: 'feed' });
    await waitFor(() => seen.includes(next.jobId), { timeoutMs: 20_000 });
    expect(heard).toEqual([]);
    refused.close();
    allowed.close();
  }, 60_000);

  it('shows the queues with the counts of stats(), the chart and the workers', async () => {
    for (let i = 0; i < 3; i++) await runner.dispatch('dash-echo', { value: i }, { queue: 'reports' });
    await runner.dispatch('dash-echo', { value: 'held' }, { queue: 'held' }); // no worker reads it: stays pending
    dashboardSwitches.flakyFails = true;
    const flaky = await runner.dispatch('dash-flaky', { customer: 'acme' }, { ownerId: 'u-42' });
    await runner.waitFor(flaky.jobId, { timeoutMs: 20_000 });
    await settle();

    const page = await open('#/');
    const stats = await operator.stats();
    expect(stats.queues.map((q) => q.queue)).toEqual(expect.arrayContaining(['default', 'reports', 'held']));
    for (const q of stats.queues) {
      const row = page.locator(`tr[data-queue="${q.queue}"]`);
      for (const count of ['pending', 'waiting', 'running', 'completed', 'failed', 'stopped'] as const) {
        expect([q.queue, count, await row.locator(`td[data-count="${count}"]`).textContent()]).toEqual([q.queue, count, String(q[count])]);
      }
    }
    const chart = page.getByRole('img', { name: /Last 60 minutes: \d+ completed, 1 failed/ });
    await chart.waitFor();
    await expect(page.locator('#workers-title + div > p').textContent()).resolves.toMatch(/^1 live worker process/);
    await page.setViewportSize({ width: 390, height: 844 });
    await shoot(page, 'overview-phone');
    await page.close();
  }, 60_000);

  it("moves a running job's bar without reload, from the live feed", async () => {
    const page = await open('#/');
    await page.locator('body[data-live="socket"]').waitFor({ timeout: 10_000 });
    await page.evaluate('window.__sameDocument = true');
    const job = await runner.dispatch('dash-progress', { steps: 30, stepMs: 200 }, { queue: 'reports', ownerId: 'u-7' });
    // It appears on the overview (its job.started event), and its bar moves there too.
    const overviewBar = page.locator(`tr[data-job-id="${job.jobId}"] [data-progress-of] progress`);
    await overviewBar.waitFor({ timeout: 10_000 });
    await waitFor(async () => Number(await overviewBar.evaluate((el) => (el as any).value)) >= 10, { timeoutMs: 10_000 });
    await shoot(page, 'overview');
    await page.goto(`${origin}/managed-jobs#/jobs/${job.jobId}`); // same document: only the hash changes
    const bar = page.locator(`[data-progress-of="${job.jobId}"] progress`);
    await bar.waitFor();
    const values = new Set<string>();
    await waitFor(
      async () => {
        // Values short of 100, seen while it runs: only progress events change them (the view's own
        // refresh comes every 10 s with the feed, or on started/completed).
        const value = Number(await bar.evaluate((el) => (el as any).value));
        if (value > 0 && value < 100) values.add(String(value));
        return values.size >= 3;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await shoot(page, 'job-running');
    await page.locator(`[data-status-of="${job.jobId}"] .badge[data-status="completed"]`).waitFor({ timeout: 20_000 });
    expect(await bar.evaluate((el) => (el as any).value)).toBe(100);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await page.close();
  }, 60_000);

  it("shows a failed job's attempts as a timeline, its error, payload and logs", async () => {
    const [failed] = (await operator.listJobs({ status: 'failed', type: 'dash-flaky' })).data;
    const page = await open(`#/jobs/${failed.jobId}`);
    const runs = page.locator('ol.timeline > li');
    await expect(runs.count()).resolves.toBe(2);
    await expect(runs.nth(0).textContent()).resolves.toContain('CRM unavailable (run 1)');
    await expect(runs.nth(1).textContent()).resolves.toContain('CRM unavailable (run 2)');
    await expect(page.locator('.error__text').textContent()).resolves.toContain('CRM unavailable (run 2)');
    await expect(page.locator('#section-payload + *').textContent()).resolves.toContain('acme');
    await expect(page.locator('#section-logs + *').textContent()).resolves.toContain('the CRM answered 503');
    const created = page.locator('.facts time').first();
    const iso = (await created.getAttribute('datetime'))!;
    expect(await created.textContent()).toBe(new Date(iso).toLocaleString('en-GB', { timeZone: 'Asia/Tokyo' }));
    await shoot(page, 'job-failed', true);
    await page.close();
  }, 60_000);

  it('retries and deletes from the failed list, one and all shown (after a confirmation)', async () => {
    dashboardSwitches.flakyFails = true;
    const more = [];
    for (let i = 0; i < 3; i++) more.push((await runner.dispatch('dash-flaky', { customer: `c${i}` })).jobId);
    for (const id of more) await runner.waitFor(id, { timeoutMs: 20_000 });
    const failedIds = (await operator.listJobs({ status: 'failed' })).data.map((j) => j.jobId);
    expect(failedIds.length).toBe(4);

    const page = await open('#/failed');
    await expect(page.locator('tr[data-job-id]').count()).resolves.toBe(4);
    await shoot(page, 'failed');
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => dialogs.push(dialog.message()));

    dashboardSwitches.flakyFails = false;
    const [retried, deleted, ...rest] = failedIds;
    await page.getByRole('button', { name: `Retry job ${retried}` }).click();
    await waitFor(async () => (await runner.find(retried))?.status === 'completed', { timeoutMs: 20_000 });
    await page.locator(`tr[data-job-id="${retried}"]`).waitFor({ state: 'detached', timeout: 15_000 });

    await page.getByRole('button', { name: `Delete job ${deleted}` }).click();
    await waitFor(async () => (await runner.find(deleted)) === null, { timeoutMs: 10_000 });
    expect(dialogs.pop()).toContain(deleted);

    await page.locator('tr[data-job-id]').nth(1).waitFor({ timeout: 15_000 });
    await waitFor(async () => (await page.locator('tr[data-job-id]').count()) === rest.length, { timeoutMs: 15_000 });
    await page.getByRole('button', { name: `Delete all shown (${rest.length})` }).click();
    await waitFor(async () => (await operator.listJobs({ status: 'failed' })).meta.total === 0, { timeoutMs: 10_000 });
    expect(dialogs.pop()).toMatch(/Delete these 2 failed jobs/);
    for (const id of rest) expect(await runner.find(id)).toBeNull();
    await page.getByText('No failed job.').waitFor({ timeout: 15_000 });

    const audit = (await operator.auditLog({ limit: 10 })).data.map((a) => [a.action, a.actor, a.count]);
    expect(audit).toEqual(expect.arrayContaining([['retry', 'test-operator', 1], ['delete', 'test-operator', 1], ['delete', 'test-operator', 2]]));
    await page.close();
  }, 90_000);

  it('pauses and resumes a queue from the overview', async () => {
    const page = await open('#/');
    await page.getByRole('button', { name: 'Pause queue reports' }).click();
    await waitFor(async () => (await operator.stats()).queues.find((q) => q.queue === 'reports')?.paused === true, { timeoutMs: 10_000 });
    await page.locator('tr[data-queue="reports"] .badge[data-status="paused"]').waitFor({ timeout: 10_000 });
    const held = await runner.dispatch('dash-echo', { value: 'while paused' }, { queue: 'reports' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await runner.find(held.jobId))?.status).toBe('pending');
    // By keyboard: the buttons are real buttons.
    await page.getByRole('button', { name: 'Resume queue reports' }).focus();
    await page.keyboard.press('Enter');
    await runner.waitFor(held.jobId, { timeoutMs: 20_000 });
    expect((await operator.stats()).queues.find((q) => q.queue === 'reports')?.paused).toBe(false);
    await page.close();
  }, 60_000);

  it('lists jobs with filters and pages, schedules, workers and the audit log', async () => {
    const page = await open('#/jobs');
    await page.getByLabel('Status').selectOption('completed');
    await page.getByLabel('Queue').fill('reports');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/#\/jobs\?status=completed&queue=reports/);
    const total = (await operator.listJobs({ status: 'completed', queue: 'reports' })).meta.total;
    await page.getByText(new RegExp(`Page 1 of 1 · ${total} jobs`)).waitFor({ timeout: 10_000 });
    await expect(page.locator('tr[data-job-id] .badge').allTextContents()).resolves.toEqual(Array(total).fill('completed'));
    await shoot(page, 'jobs');

    await page.getByRole('link', { name: 'Schedules' }).click();
    const row = page.locator('tr[data-schedule="nightly-report"]');
    await row.waitFor();
    await page.getByRole('button', { name: 'Disable schedule nightly-report' }).click();
    await page.getByRole('button', { name: 'Enable schedule nightly-report' }).waitFor({ timeout: 10_000 });
    expect((await app.get(ManagedSchedulesService).find('nightly-report'))?.enabled).toBe(false);
    await page.getByRole('button', { name: 'Enable schedule nightly-report' }).click();
    await page.getByRole('button', { name: 'Disable schedule nightly-report' }).waitFor({ timeout: 10_000 });
    expect((await app.get(ManagedSchedulesService).find('nightly-report'))?.enabled).toBe(true);
    await page.getByRole('button', { name: 'Run schedule nightly-report now' }).click();
    await page.getByRole('alert').filter({ hasText: 'nightly-report dispatched job' }).waitFor({ timeout: 10_000 });
    expect((await app.get(ManagedSchedulesService).find('nightly-report'))?.lastJobId).toBeTruthy();
    await shoot(page, 'schedules');

    await page.getByRole('link', { name: 'Workers' }).click();
    await page.locator('td.mono').first().waitFor();
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'schedule.disable' }).waitFor();
    await shoot(page, 'audit');
    await page.getByRole('link', { name: 'Batches' }).click();
    await page.getByLabel('Batch id').fill('no-such-batch');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('No batch no-such-batch').waitFor();
    // Chrome logs every 404 answer; this one is the point of the step (no such batch).
    const notFound = consoleErrors.findIndex((e) => e.includes('404') && e.includes('/managed-jobs/api/batches/no-such-batch'));
    expect(notFound).toBeGreaterThanOrEqual(0);
    consoleErrors.splice(notFound, 1);
    // A real batch: its counters and progress from the BatchRecord, its members by status.
    const batch = await runner.batch(
      [{ job: 'dash-echo', payload: { value: 'one' }, key: 'a' }, { job: 'dash-echo', payload: { value: 'two' }, key: 'b', dependsOn: ['a'] }],
      { name: 'nightly import' },
    );
    await waitFor(async () => (await runner.findBatch(batch.batchId))?.status === 'completed', { timeoutMs: 20_000 });
    await page.getByLabel('Batch id').fill(batch.batchId);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('nightly import').waitFor();
    await page.getByText('100%').waitFor();
    expect(await page.getByRole('heading', { name: 'completed (2)' }).count()).toBe(1);
    await page.close();
  }, 60_000);

  it('falls back to polling when the socket cannot connect, and still shows changes without reload', async () => {
    const page = await browser.newPage();
    page.on('console', (message) => {
      // The blocked socket requests are this test's doing.
      if (message.type() === 'error' && !/socket\.io|ERR_FAILED|WebSocket/.test(message.text())) consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.route('**/socket.io/**', (route) => route.abort());
    await page.goto(`${origin}/managed-jobs#/`);
    await page.locator('body[data-live="polling"]').waitFor({ timeout: 15_000 });
    const before = Number(await page.locator('tr[data-queue="reports"] td[data-count="completed"]').textContent());
    const job = await runner.dispatch('dash-echo', { value: 'polled' }, { queue: 'reports' });
    await runner.waitFor(job.jobId, { timeoutMs: 20_000 });
    await waitFor(async () => Number(await page.locator('tr[data-queue="reports"] td[data-count="completed"]').textContent()) === before + 1, { timeoutMs: 10_000 });
    await page.close();
  }, 60_000);
});
