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
