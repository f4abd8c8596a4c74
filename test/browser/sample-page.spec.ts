import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { tmpDir } from '../support/databases.js';

/**
 * The sample page in a real browser (Debian's chromium, headless): a user starts a job, the bar
 * fills to 100% from socket.io events, and the finished report can be downloaded.
 */
describe('sample page in headless chromium', () => {
  let app: INestApplication;
  let browser: BrowserContext;
  let url: string;

  beforeAll(async () => {
    process.env.SAMPLE_DATA_DIR = tmpDir('sample');
    const { AppModule } = await import('../../sample/src/app.module.js');
    const nest = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ['error'] });
    nest.useStaticAssets(join(process.cwd(), 'sample', 'public'));
    nest.enableShutdownHooks();
    await nest.listen(0, '127.0.0.1');
    app = nest;
    url = await nest.getUrl();
    browser = await chromium.launchPersistentContext(tmpDir('chromium-profile'), {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      acceptDownloads: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('starts a report, shows the bar reach 100% live, and offers its file', async () => {
    const page = await browser.newPage();
    await page.goto(url.replace('[::1]', '127.0.0.1'));
    await page.fill('#user', 'alice');
    await page.fill('#payload', '{ "from": "2024-01-01", "to": "2024-01-31", "rows": 40 }');
    await page.click('#start');

    const job = page.locator('.job').first();
    await job.locator('.job__percent', { hasText: '100%' }).waitFor({ timeout: 30_000 });
    await page.locator('.job[data-status="completed"]').first().waitFor({ timeout: 30_000 });
    expect(await job.locator('.progress').getAttribute('aria-valuenow')).toBe('100');
    const link = job.locator('.files a').first();
    await link.waitFor({ timeout: 10_000 });
    expect(await link.textContent()).toContain('.csv');

    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: join('test-artifacts', 'sample-page.png'), fullPage: true });
  }, 90_000);

  it('imports 20 files as one batch: one bar moves live to 100% and shows the finished status', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(url.replace('[::1]', '127.0.0.1'));
    await page.fill('#user', 'bob');
    await page.locator('#user').dispatchEvent('change');
    await page.locator('#connection.pill--on', { hasText: 'jobs.bob' }).waitFor({ timeout: 15_000 });
    // Every value the bar shows, as the page sets it (no polling gaps).
    await page.evaluate(`{
      const bar = document.getElementById('batch-progress');
      window.batchValues = [];
      new MutationObserver(() => window.batchValues.push(bar.getAttribute('aria-valuenow'))).observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
    }`);

    await page.getByRole('button', { name: 'Import 20 files' }).click();
    const bar = page.getByRole('progressbar', { name: 'Import 20 files' });
    await bar.waitFor({ timeout: 15_000 });
    await page.locator('#batch-status', { hasText: 'done · completed' }).waitFor({ timeout: 30_000 });

    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    expect(await page.locator('#batch-percent').textContent()).toBe('100%');
    expect(await page.locator('#batch-counts').textContent()).toBe('20 of 20 imported');
    expect(await page.locator('#batch[data-status="completed"]').count()).toBe(1);
    const values = ((await page.evaluate('window.batchValues')) as string[]).map(Number);
    expect(values.some((v) => v > 0 && v < 100)).toBe(true); // it moved on the way, not only at the end
    expect(values).toEqual([...values].sort((a, b) => a - b)); // and never backwards
    // The members are the batch's bar, not 20 cards of their own.
    expect(await page.locator('#jobs .job').count()).toBe(0);
    expect(problems).toEqual([]);

    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: join('test-artifacts', 'sample-page-batch.png'), fullPage: true });
    await page.close();
  }, 90_000);

  it('opens the operator dashboard for the demo admin only, live', async () => {
    const base = url.replace('[::1]', '127.0.0.1');
    expect((await fetch(`${base}/managed-jobs`)).status).toBe(403);
    expect((await fetch(`${base}/managed-jobs`, { headers: { cookie: 'demo_user=alice' } })).status).toBe(403);
    const page = await browser.newPage();
    await page.goto(`${base}/demo/sign-in?user=admin`);
    expect(new URL(page.url()).pathname).toBe('/managed-jobs');
    await page.locator('body[data-loaded="true"][data-live="socket"]').waitFor({ timeout: 15_000 });
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    await page.close();
  }, 60_000);
});
