/**
 * The attacks of the security review (issue 10), each replayed against a real app on both
 * databases: each of these failed before its fix.
 */
import type { INestApplication } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { InvalidJobPayloadError, JobRunnerService, JobStatus, ManagedJob, type JobContext } from '../../lib/index.js';
import { JOB_STORE } from '../../lib/managed-jobs.constants.js';
import { createTestDatabase, dialects, tmpDir, waitFor, type TestDatabase } from '../support/databases.js';
import { GenerateReportJob, Probe } from '../fixtures/jobs.js';
import { asA, createHttpApp } from './http-app.js';
import { httpJobs, WriteFilesJob } from './http-jobs.js';

const report = { from: '2024-01-01', to: '2024-12-31', rows: 1 };
const u7 = { 'x-user': 'u7' };
const u7acme = { 'x-user': 'u7', 'x-tenant': 'acme' };

/** Writes a file outside the storage root with `addFile`: must fail without telling the owner where the root is. */
@Injectable()
@ManagedJob({ name: 'escaping-file', http: true })
class EscapingFileJob {
  async handle(ctx: JobContext) {
    await ctx.addFile({ path: '/etc/passwd', filename: 'passwd', mimeType: 'text/plain', sizeBytes: 1 });
  }
}

/** Not marked `http: true`: an owner may see it, never stop or re-run it over HTTP. */
@Injectable()
@ManagedJob({ name: 'internal-chore', tries: 1 })
class InternalChoreJob {
  async handle() {
    throw new Error('chore failed');
  }
}

/** Takes any JSON value (no payload class). */
@Injectable()
@ManagedJob({ name: 'freeform' })
class FreeformJob {
  async handle() {}
}

/** Never idempotent: a run whose worker vanishes fails instead of running again. */
@Injectable()
@ManagedJob({ name: 'charge-card', idempotent: false, http: true })
class ChargeCardJob {
  async handle() {}
}

describe.each(dialects)('security review attacks on %s', (dialect) => {
  let db: TestDatabase;
  const apps: INestApplication[] = [];
  const open = async (...args: Parameters<typeof createHttpApp>) => {
    const app = await createHttpApp(...args);
    apps.push(app);
    return app;
  };
  const providers = [Probe, GenerateReportJob, FreeformJob, EscapingFileJob, InternalChoreJob, ChargeCardJob, ...httpJobs];
  const idle = () => open(db, { providers, options: { worker: { enabled: false } } });
  const count = async (app: INestApplication) => (await app.get(JobRunnerService).list({})).meta.total;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('hole 1: list filters cannot grow the statement cache (one SQL text whatever the status list)', async () => {
    const app = await idle();
    const http = () => request(app.getHttpServer());
    const store = app.get(JOB_STORE, { strict: false }) as any;
    // The connection the queue store's statements go through (its statement cache).
    // MariaDB: mysql2 prepares each text once per connection; the server counts them (this spec runs alone).
    const ds = app.get(DataSource);
    const cached = async (): Promise<number> =>
      dialect === 'sqlite'
        ? store.queue.db.statements.size
        : dialect === 'postgres'
          ? store.queue.db.statementNames.size
          : Number((await ds.query(`SELECT VARIABLE_VALUE AS n FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'PREPARED_STMT_COUNT'`))[0].n);
    await http().get('/jobs?status=failed').set(asA).expect(200);
    const before = await cached();
    for (let n = 2; n <= 40; n++) {
      const statuses = Array.from({ length: n }, (_, i) => ['failed', 'pending', 'running', 'stopped', 'completed'][i % 5]).join(',');
      await http().get(`/jobs?status=${statuses}`).set(asA).expect(200);
      await http().get(`/jobs?status=${statuses}&type=t${n}`).set(asA).expect(200);
    }
    // Before the fix, every distinct count was a new SQLite statement: 78 more here.
    expect((await cached()) - before).toBeLessThanOrEqual(dialect === 'mariadb' ? 2 * 10 : 2); // per pooled connection
    await http().get(`/jobs?status=${Array(51).fill('failed').join(',')}`).set(asA).expect(400);
    await expect(app.get(JobRunnerService).list({ status: [JobStatus.Failed, 'bogus' as JobStatus] })).rejects.toThrow(/Unknown job status "bogus"/);
  });

  describe('hole 2: cross-site forms cannot dispatch or retry', () => {
    it.each([
      ['a urlencoded form', 'application/x-www-form-urlencoded', 'type=generate-report&payload[from]=2024-01-01&payload[to]=2024-12-31'],
      ['a multipart form', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="type"\r\n\r\ngenerate-report\r\n--x--\r\n'],
      ['text/plain carrying JSON', 'text/plain', JSON.stringify({ type: 'generate-report', payload: report })],
      ['no content type', undefined, JSON.stringify({ type: 'generate-report', payload: report })],
    ])('POST /jobs with %s is 415 and writes nothing', async (_, contentType, body) => {
      const app = await idle();
      const req = request(app.getHttpServer()).post('/jobs').set(asA);
      if (contentType) req.set('Content-Type', contentType);
      else req.unset('Content-Type');
      const res = await req.send(Buffer.from(body));
      expect(res.status).toBe(415);
      expect(await count(app)).toBe(0);
    });

    it('POST /jobs/:id/retry needs Content-Type: application/json (an empty JSON request is fine)', async () => {
      const app = await idle();
      const runner = app.get(JobRunnerService);
      const job = await runner.dispatch(GenerateReportJob, report, { ownerId: 'user-a', tenantId: 'tenant-1' });
      await runner.stop(job.jobId);
      for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
        await request(app.getHttpServer()).post(`/jobs/${job.jobId}/retry`).set(asA).set('Content-Type', type).send('a=1').expect(415);
      }
      await request(app.getHttpServer()).post(`/jobs/${job.jobId}/retry`).set(asA).expect(415);
      expect((await runner.find(job.jobId))!.status).toBe(JobStatus.Stopped);
      await request(app.getHttpServer()).post(`/jobs/${job.jobId}/retry`).set(asA).set('Content-Type', 'application/json').expect(202);
      expect((await runner.find(job.jobId))!.status).toBe(JobStatus.Pending);
    });
  });

  it('hole 3: an owner is the pair (user, tenant): (u7, no tenant) and (u7, acme) never see each other', async () => {
    const app = await idle();
    const runner = app.get(JobRunnerService);
    const http = () => request(app.getHttpServer());
    const acmeJob = (await http().post('/jobs').set(u7acme).send({ type: 'generate-report', payload: report }).expect(202)).body.jobId;
    const plainJob = (await http().post('/jobs').set(u7).send({ type: 'generate-report', payload: report }).expect(202)).body.jobId;

    await http().get(`/jobs/${acmeJob}`).set(u7).expect(404);
    await http().delete(`/jobs/${acmeJob}`).set(u7).expect(404);
    await http().get(`/jobs/${plainJob}`).set(u7acme).expect(404);
    expect((await http().get('/jobs').set(u7).expect(200)).body.data.map((j: any) => j.jobId)).toEqual([plainJob]);
    expect((await http().get('/jobs').set(u7acme).expect(200)).body.data.map((j: any) => j.jobId)).toEqual([acmeJob]);
    expect((await runner.find(acmeJob))!.status).toBe(JobStatus.Pending);

    // The same rule through the service: { ownerId } alone is the owner without a tenant.
    expect((await runner.list({ ownerId: 'u7' })).data.map((j) => j.jobId)).toEqual([plainJob]);
    expect(await runner.find(acmeJob, { ownerId: 'u7' })).toBeNull();
    expect((await runner.list({ tenantId: 'acme' })).data.map((j) => j.jobId)).toEqual([acmeJob]);
  });

  it('W1: stop and retry of a job type not marked http: true answer 404 and change nothing', async () => {
    const app = await open(db, { providers });
    const runner = app.get(JobRunnerService);
    const chore = await runner.dispatch(InternalChoreJob, null, { ownerId: 'user-a', tenantId: 'tenant-1' });
    await waitFor(async () => (await runner.find(chore.jobId))?.status === JobStatus.Failed);
    await request(app.getHttpServer()).get(`/jobs/${chore.jobId}`).set(asA).expect(200);
    await request(app.getHttpServer()).post(`/jobs/${chore.jobId}/retry`).set(asA).set('Content-Type', 'application/json').expect(404);
    const after = (await runner.find(chore.jobId))!;
    expect([after.status, after.maxAttempts]).toEqual([JobStatus.Failed, 1]);

    const pending = await runner.dispatch(WriteFilesJob, { files: [] }, { ownerId: 'user-a', tenantId: 'tenant-1', delayMs: 60_000 });
    await request(app.getHttpServer()).delete(`/jobs/${pending.jobId}`).set(asA).expect(404);
    expect((await runner.find(pending.jobId))!.status).toBe(JobStatus.Pending);
  });

  it('W2: failedReason tells the owner nothing about hosts, processes or storage paths', async () => {
    const storage = tmpDir('storage');
    const app = await open(db, { providers, options: { storage: { root: storage }, worker: { leaseMs: 600, heartbeatIntervalMs: 200 } } });
    const runner = app.get(JobRunnerService);
    const http = () => request(app.getHttpServer());
    const escaping = (await http().post('/jobs').set(asA).send({ type: 'escaping-file', payload: null }).expect(202)).body.jobId;
    await waitFor(async () => (await runner.find(escaping))?.status === JobStatus.Failed);

    // A run whose worker vanished: claimed (from a queue this app's worker does not serve) by a
    // "worker" that never renews its lease; this app's reaper finds it.
    const charge = await runner.dispatch(ChargeCardJob, null, { ownerId: 'user-a', tenantId: 'tenant-1', queue: 'orphans' });
    const store = app.get(JOB_STORE, { strict: false }) as any;
    const [claimed] = await store.claim({ queue: 'orphans', types: ['charge-card'], limit: 1, workerId: `${hostname()}:4242:dead00`, leaseMs: 1 });
    expect(claimed?.jobId).toBe(charge.jobId);
    await waitFor(async () => (await runner.find(charge.jobId))?.status === JobStatus.Failed, { timeoutMs: 15_000 });

    for (const jobId of [escaping, charge.jobId]) {
      const { failedReason } = (await http().get(`/jobs/${jobId}`).set(asA).expect(200)).body;
      expect(failedReason).toEqual(expect.any(String));
      expect(failedReason).not.toContain(hostname());
      expect(failedReason).not.toContain('4242');
      expect(failedReason).not.toContain(storage);
      expect(failedReason).not.toContain('/etc/passwd');
    }
  });

  it('W3: a body nested 10,000 levels deep is a 400, with the parser on or off, and dispatch() refuses it too', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const body = `{"type":"generate-report","payload":{"from":"2024-01-01","to":"2024-12-31","x":${deep}}}`;
    for (const bodyParser of [true, false]) {
      const app = await open(db, { providers, options: { worker: { enabled: false } }, app: { bodyParser } });
      const before = await count(app);
      const res = await request(app.getHttpServer()).post('/jobs').set(asA).set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(await count(app)).toBe(before);
      await app.close();
      apps.splice(apps.indexOf(app), 1);
    }
    const app = await idle();
    const before = await count(app);
    let nested: unknown = 1;
    for (let i = 0; i < 100; i++) nested = [nested];
    const refused = await app.get(JobRunnerService).dispatch(FreeformJob, nested).catch((e) => e);
    expect(refused).toBeInstanceOf(InvalidJobPayloadError);
    expect(await count(app)).toBe(before);
  });

  it('W4: lone surrogates and NUL are refused alike on both databases, in values and keys', async () => {
    const app = await idle();
    const runner = app.get(JobRunnerService);
    const before = await count(app);
    for (const payload of ['{"from":"2024-01-01","to":"2024-12-31","x":"\\ud800"}', '{"from":"2024-01-01","to":"2024-12-31","\\udc00":1}']) {
      const res = await request(app.getHttpServer())
        .post('/jobs')
        .set(asA)
        .set('Content-Type', 'application/json')
        .send(`{"type":"generate-report","payload":${payload}}`);
      expect(res.status).toBe(400);
    }
    for (const payload of [{ text: 'a\u0000b' }, { nested: { ['k\u0000']: 1 } }, { s: 'x\ud800' }]) {
      const error = await runner.dispatch(FreeformJob, payload).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidJobPayloadError);
      expect(error.violations[0].property).toMatch(/^(text|nested\.k\\0|s)$/);
    }
    expect(await count(app)).toBe(before);
  });

  it('W5: an owner may have at most http.maxActiveJobsPerOwner of its own dispatches pending or running (429 beyond)', async () => {
    const app = await open(db, { providers, options: { worker: { enabled: false }, http: { maxActiveJobsPerOwner: 3 } } });
    const http = () => request(app.getHttpServer());
    const owner = { 'x-user': 'fair-user', 'x-tenant': 'fair' };
    for (let i = 0; i < 3; i++) await http().post('/jobs').set(owner).send({ type: 'generate-report', payload: report }).expect(202);
    const before = await count(app);
    const refused = await http().post('/jobs').set(owner).send({ type: 'generate-report', payload: report });
    expect(refused.status).toBe(429);
    expect(await count(app)).toBe(before);
    // Another owner (the same user in another tenant is another owner) is not held back.
    await http().post('/jobs').set({ 'x-user': 'fair-user', 'x-tenant': 'other' }).send({ type: 'generate-report', payload: report }).expect(202);
    // Jobs the app dispatched for an owner do not count against it.
    const other = { 'x-user': 'fair-user-2' };
    for (let i = 0; i < 3; i++) await app.get(JobRunnerService).dispatch(GenerateReportJob, report, { ownerId: 'fair-user-2' });
    await http().post('/jobs').set(other).send({ type: 'generate-report', payload: report }).expect(202);
    // A finished job frees its place.
    const [first] = (await http().get('/jobs').set(owner).expect(200)).body.data;
    await http().delete(`/jobs/${first.jobId}`).set(owner).expect(200);
    await http().post('/jobs').set(owner).send({ type: 'generate-report', payload: report }).expect(202);
    await http().post('/jobs').set(owner).send({ type: 'generate-report', payload: report }).expect(429);
  });

  it('W7: job, list and file-list answers are never cached', async () => {
    const app = await idle();
    const http = () => request(app.getHttpServer());
    const posted = await http().post('/jobs').set(asA).send({ type: 'generate-report', payload: report }).expect(202);
    const jobId = posted.body.jobId;
    const answers = [
      posted,
      await http().get('/jobs').set(asA).expect(200),
      await http().get(`/jobs/${jobId}`).set(asA).expect(200),
      await http().get(`/jobs/${jobId}/files`).set(asA).expect(200),
      await http().delete(`/jobs/${jobId}`).set(asA).expect(200),
      await http().post(`/jobs/${jobId}/retry`).set(asA).set('Content-Type', 'application/json').expect(202),
    ];
    for (const res of answers) expect(res.headers['cache-control']).toBe('private, no-store');
  });
});
