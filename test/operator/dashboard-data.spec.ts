/**
 * What the dashboard reads, on every dialect: the throughput chart's counts per minute (from the
 * finished_at index: the right minute, failures apart, nothing older than the window), its
 * validation, the gate, and the page and its files served from the package (only listed names).
 * The other reads (stats, jobs, a job, workers, schedules, audit) are operator-api.spec.ts's.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { io } from 'socket.io-client';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { JobRunnerService, ManagedJobsOperatorService } from '../../lib/index.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, type Dialect, type TestDatabase } from '../support/databases.js';
import { operatorJobs } from './operator-jobs.js';

const ADMIN = { 'x-admin': 'yes' };

/** Moves a job's finish `seconds` into the past, in the database's own clock. */
function backdate(dialect: Dialect, seconds: number): string {
  if (dialect === 'postgres') return `UPDATE managed_jobs SET finished_at = timezone('UTC', now()) - make_interval(secs => ${seconds}) WHERE job_id = $1`;
  if (dialect === 'mariadb') return `UPDATE managed_jobs SET finished_at = UTC_TIMESTAMP(3) - INTERVAL ${seconds} SECOND WHERE job_id = ?`;
  return `UPDATE managed_jobs SET finished_at = strftime('%Y-%m-%d %H:%M:%f', 'now', '-${seconds} seconds') WHERE job_id = ?`;
}

describe.each(dialects)('dashboard data on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, {
      providers: operatorJobs,
      listen: true,
      options: { operator: { enabled: true, path: 'ops', authorize: (req) => req.headers['x-admin'] === 'yes' } },
    });
    runner = app.get(JobRunnerService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const http = () => request(app.getHttpServer());

  it('counts completed and failed jobs per minute over the last hour', async () => {
    const jobs = [];
    for (let i = 0; i < 4; i++) jobs.push(await runner.dispatch('op-echo', { value: i }));
    const failed = await runner.dispatch('op-fail', {});
    for (const job of [...jobs, failed]) await runner.waitFor(job.jobId, { timeoutMs: 20_000 });
    const ds = app.get<DataSource>(getDataSourceToken());
    await ds.query(backdate(dialect, 10 * 60 + 30), [jobs[0].jobId]); // 10.5 minutes ago
    await ds.query(backdate(dialect, 90 * 60), [jobs[1].jobId]); // out of the hour

    const { body } = await http().get('/ops/api/throughput').set(ADMIN).expect(200);
    expect(body.minutes).toBe(60);
    expect(body.points).toHaveLength(60);
    expect(body.points.map((p: { minutesAgo: number }) => p.minutesAgo)).toEqual(Array.from({ length: 60 }, (_, i) => 59 - i));
    const at = (ago: number) => body.points.find((p: { minutesAgo: number }) => p.minutesAgo === ago);
    // The jobs just run may straddle a minute boundary: this minute and the one before.
    const recent = { completed: at(0).completed + at(1).completed, failed: at(0).failed + at(1).failed };
    expect(recent).toEqual({ completed: 2, failed: 1 });
    expect(at(10)).toEqual({ minutesAgo: 10, completed: 1, failed: 0 });
    const total = body.points.reduce((n: number, p: { completed: number; failed: number }) => n + p.completed + p.failed, 0);
    expect(total).toBe(4);

    const short = await app.get(ManagedJobsOperatorService).throughput(5);
    expect(short.points).toHaveLength(5);
    expect(short.points.reduce((n, p) => n + p.completed + p.failed, 0)).toBe(3);
  });

  it('refuses a bad window (400) and an unauthorized read (403, no data)', async () => {
    await http().get('/ops/api/throughput?minutes=abc').set(ADMIN).expect(400);
    await http().get('/ops/api/throughput?minutes=0').set(ADMIN).expect(400);
    await http().get('/ops/api/throughput?minutes=1441').set(ADMIN).expect(400);
    await http().get('/ops/api/throughput?minutes=1440').set(ADMIN).expect(200);
    const refused = await http().get('/ops/api/throughput').expect(403);
    expect(JSON.stringify(refused.body)).not.toContain('points');
  });

  it('serves the page and its files behind the gate, and nothing else', async () => {
    await http().get('/ops').expect(403);
    await http().get('/ops/assets/dashboard.js').expect(403);
    const page = await http().get('/ops').set(ADMIN).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).toContain('src="/ops/assets/dashboard.js"');
    expect(page.text).toContain('data-base="/ops"');
    const script = await http().get('/ops/assets/dashboard.js').set(ADMIN).expect(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    const client = await http().get('/ops/assets/socket.io.esm.min.js').set(ADMIN).expect(200);
    expect(client.text).toContain('export{');
    expect(client.text).not.toContain('sourceMappingURL');
    for (const name of ['nope.js', 'index.html', '..%2Fpackage.json', '..%2F..%2Fpackage.json', 'dashboard.css.map']) {
      await http().get(`/ops/assets/${name}`).set(ADMIN).expect(404);
    }
  });
});

describe('dashboard switched off (operator.dashboard: false)', () => {
  let db: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    app = await createTestApp(db, {
      listen: true,
      options: { operator: { enabled: true, dashboard: false, authorize: (req) => req.headers['x-admin'] === 'yes' } },
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('serves no page, no file and no live feed; the API stays', async () => {
    await request(app.getHttpServer()).get('/managed-jobs').set(ADMIN).expect(404);
    await request(app.getHttpServer()).get('/managed-jobs/assets/dashboard.js').set(ADMIN).expect(404);
    await request(app.getHttpServer()).get('/managed-jobs/api/stats').set(ADMIN).expect(200);
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const socket = io(`${base}/managed-jobs/operator`, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: ADMIN });
    const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    socket.close();
    expect(error.message).toMatch(/Invalid namespace/);
  });
});
