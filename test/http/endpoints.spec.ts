import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { JobRunnerService, JobStatus, LocalStorageDriver } from '../../lib/index.js';
import { STORAGE_DRIVER } from '../../lib/managed-jobs.constants.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { GenerateReportJob, Probe } from '../fixtures/jobs.js';
import { asA, asA2, asB, createHttpApp } from './http-app.js';
import { HttpProbe, httpJobs, ResumableJob, WaitForStopJob, WriteFilesJob } from './http-jobs.js';

/** What every POST must say it is (the CSRF rule). */
const JSON_TYPE = { 'Content-Type': 'application/json' };
const report = { from: '2024-01-01', to: '2024-12-31', rows: 2 };
const userA = { getManagedJobOwnerId: () => 'user-a', getManagedJobTenantId: () => 'tenant-1' };
const userB = { getManagedJobOwnerId: () => 'user-b', getManagedJobTenantId: () => 'tenant-2' };
const MISSING = '01900000-0000-7000-8000-000000000000';

describe.each(dialects)('HTTP endpoints on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let http: () => ReturnType<typeof request>;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createHttpApp(db, { providers: [Probe, GenerateReportJob, ...httpJobs] });
    runner = app.get(JobRunnerService);
    http = () => request(app.getHttpServer());
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const settled = (jobId: string, statuses = [JobStatus.Completed, JobStatus.Failed, JobStatus.Stopped]) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && statuses.includes(job.status) ? job : null;
    }, { timeoutMs: 20_000 });

  describe('without an owner', () => {
    it.each([
      ['get', '/jobs'],
      ['post', '/jobs'],
      ['get', `/jobs/${MISSING}`],
      ['delete', `/jobs/${MISSING}`],
      ['post', `/jobs/${MISSING}/retry`],
      ['get', `/jobs/${MISSING}/files`],
      ['get', `/jobs/${MISSING}/files/${MISSING}/download`],
    ])('%s %s → 401', async (method, path) => {
      const res = await (http() as any)[method](path).send(method === 'post' ? { type: 'generate-report', payload: report } : undefined);
      expect(res.status).toBe(401);
    });

    it('writes nothing when POST /jobs has no owner', async () => {
      const before = (await runner.list({})).meta.total;
      await http().post('/jobs').send({ type: 'generate-report', payload: report }).expect(401);
      expect((await runner.list({})).meta.total).toBe(before);
    });
  });

  describe('POST /jobs', () => {
    it('queues an http job for the requester → 202 { jobId }', async () => {
      const res = await http().post('/jobs').set(asA).send({ type: 'generate-report', payload: report }).expect(202);
      expect(Object.keys(res.body)).toEqual(['jobId']);
      const job = await runner.find(res.body.jobId);
      expect(job).toMatchObject({ type: 'generate-report', ownerUserId: 'user-a', ownerTenantId: 'tenant-1', triggeredByUserId: 'user-a' });
      expect(job!.payload).toEqual(report);
      await settled(res.body.jobId);
    });

    it('refuses an invalid payload with the violations (400) and writes nothing', async () => {
      const before = (await runner.list({})).meta.total;
      const res = await http()
        .post('/jobs')
        .set(asA)
        .send({ type: 'generate-report', payload: { from: 'yesterday', to: '2024-12-31', extra: 1 } })
        .expect(400);
      expect(res.body.violations.map((v: any) => v.property).sort()).toEqual(['extra', 'from']);
      expect((await runner.list({})).meta.total).toBe(before);
    });

    it.each([
      ['an unknown type', { type: 'no-such-job', payload: {} }],
      ['a type not marked http: true', { type: 'write-files', payload: { files: [] } }],
      ['a type that names an Object.prototype member', { type: 'constructor', payload: {} }],
      ['a type that is not a string', { type: ['generate-report'], payload: report }],
      ['an owner in the body', { type: 'generate-report', payload: report, ownerId: 'user-b' }],
      ['a tenant in the body', { type: 'generate-report', payload: report, tenantId: 'tenant-2' }],
      ['a body that is an array', [{ type: 'generate-report', payload: report }]],
    ])('refuses %s with 400 and writes nothing', async (_what, body) => {
      const before = (await runner.list({})).meta.total;
      const res = await http().post('/jobs').set(asA).send(body as object).expect(400);
      expect(res.body.statusCode).toBe(400);
      expect((await runner.list({})).meta.total).toBe(before);
    });

    it('answers unknown and non-http types identically', async () => {
      const unknown = await http().post('/jobs').set(asA).send({ type: 'no-such-job', payload: {} });
      const internal = await http().post('/jobs').set(asA).send({ type: 'hostile-files', payload: {} });
      expect(internal.status).toBe(400);
      expect(internal.body).toEqual(unknown.body);
    });

    it('refuses __proto__ and constructor keys anywhere, and pollutes nothing', async () => {
      const before = (await runner.list({})).meta.total;
      const bodies = [
        `{"type":"generate-report","payload":{"from":"2024-01-01","to":"2024-12-31","__proto__":{"polluted":"yes"}}}`,
        `{"type":"generate-report","payload":{"from":"2024-01-01","to":"2024-12-31","constructor":{"prototype":{"polluted":"yes"}}}}`,
        `{"__proto__":{"polluted":"yes"},"type":"generate-report","payload":{"from":"2024-01-01","to":"2024-12-31"}}`,
        `{"type":"generate-report","payload":{"from":"2024-01-01","to":"2024-12-31","rows":{"__proto__":{"polluted":"yes"}}}}`,
      ];
      for (const body of bodies) {
        const res = await http().post('/jobs').set(asA).set('content-type', 'application/json').send(body);
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body.violations)).toMatch(/__proto__|constructor/);
      }
      expect(({} as any).polluted).toBeUndefined();
      expect((Object.prototype as any).polluted).toBeUndefined();
      expect((await runner.list({})).meta.total).toBe(before);
    });

    it('refuses NUL characters in the body with 400 (PostgreSQL jsonb cannot store them)', async () => {
      const before = (await runner.list({})).meta.total;
      const res = await http().post('/jobs').set(asA).set('content-type', 'application/json')
        .send('{"type":"generate-report","payload":{"from":"2024-01-01\\u0000","to":"2024-12-31"}}');
      expect(res.status).toBe(400);
      expect(res.body.violations[0]).toMatchObject({ property: 'payload.from', constraints: { noNul: expect.any(String) } });
      expect((await runner.list({})).meta.total).toBe(before);
    });

    it('refuses a non-JSON body with 415', async () => {
      await http().post('/jobs').set(asA).set('content-type', 'text/plain').send('type=generate-report').expect(415);
    });

    it('refuses malformed JSON with 400', async () => {
      await http().post('/jobs').set(asA).set('content-type', 'application/json').send('{"type": ').expect(400);
    });
  });

  describe('GET /jobs', () => {
    let ids: { a: string[]; b: string[]; a2: string[] };

    beforeAll(async () => {
      // A fresh set of types so counts are exact: write-files is quick and has no payload class.
      const make = async (owner: any, n: number) => {
        const out: string[] = [];
        for (let i = 0; i < n; i++) out.push((await runner.dispatch(WriteFilesJob, { files: [] }, { owner })).jobId);
        return out;
      };
      ids = {
        a: await make(userA, 5),
        b: await make(userB, 2),
        a2: await make({ getManagedJobOwnerId: () => 'user-a', getManagedJobTenantId: () => 'tenant-2' }, 1),
      };
      await Promise.all([...ids.a, ...ids.b, ...ids.a2].map((id) => settled(id)));
    });

    it('lists only the requester’s jobs, newest first, paginated', async () => {
      const page1 = await http().get('/jobs?type=write-files&limit=2').set(asA).expect(200);
      expect(page1.body.meta).toEqual({ page: 1, limit: 2, total: 5 });
      expect(page1.body.data.map((j: any) => j.jobId)).toEqual([ids.a[4], ids.a[3]]);
      const page3 = await http().get('/jobs?type=write-files&limit=2&page=3').set(asA).expect(200);
      expect(page3.body.data.map((j: any) => j.jobId)).toEqual([ids.a[0]]);
      const all = await http().get('/jobs?limit=100').set(asA).expect(200);
      expect(all.body.data.every((j: any) => j.ownerUserId === 'user-a' && j.ownerTenantId === 'tenant-1')).toBe(true);
      const b = await http().get('/jobs?type=write-files').set(asB).expect(200);
      expect(b.body.data.map((j: any) => j.jobId).sort()).toEqual([...ids.b].sort());
      const a2 = await http().get('/jobs?type=write-files').set(asA2).expect(200);
      expect(a2.body.data.map((j: any) => j.jobId)).toEqual(ids.a2);
    });

    it('ignores ?ownerId= and ?tenantId=', async () => {
      const res = await http().get('/jobs?type=write-files&ownerId=user-b&tenantId=tenant-2&owner_user_id=user-b').set(asA).expect(200);
      expect(res.body.meta.total).toBe(5);
      expect(res.body.data.every((j: any) => j.ownerUserId === 'user-a')).toBe(true);
    });

    it('filters by status (one, several, comma-separated)', async () => {
      const done = await http().get('/jobs?type=write-files&status=completed').set(asA).expect(200);
      expect(done.body.meta.total).toBe(5);
      const none = await http().get('/jobs?type=write-files&status=failed').set(asA).expect(200);
      expect(none.body.meta.total).toBe(0);
      const both = await http().get('/jobs?type=write-files&status=failed,completed').set(asA).expect(200);
      expect(both.body.meta.total).toBe(5);
      const repeated = await http().get('/jobs?type=write-files&status=failed&status=completed').set(asA).expect(200);
      expect(repeated.body.meta.total).toBe(5);
    });

    it.each(['limit=101', 'limit=0', 'limit=abc', 'page=0', 'page=-1', 'status=done', 'page=1.5'])('refuses ?%s with 400', async (q) => {
      const res = await http().get(`/jobs?${q}`).set(asA).expect(400);
      expect(res.body.violations.length).toBeGreaterThan(0);
    });

    it('never exposes lease, fence or checkpoint internals', async () => {
      const res = await http().get('/jobs?limit=100').set(asA).expect(200);
      for (const job of res.body.data) {
        for (const key of ['leaseOwner', 'leaseExpiresAt', 'fence', 'state', 'idempotent', 'lease_owner']) expect(job).not.toHaveProperty(key);
      }
    });
  });

  describe('GET /jobs/:jobId', () => {
    it('returns the requester’s job', async () => {
      const { body } = await http().post('/jobs').set(asA).send({ type: 'generate-report', payload: report }).expect(202);
      await settled(body.jobId);
      const res = await http().get(`/jobs/${body.jobId}`).set(asA).expect(200);
      expect(res.body).toMatchObject({ jobId: body.jobId, status: 'completed', progress: 100, result: { rows: 2, from: '2024-01-01' } });
      expect(res.body).not.toHaveProperty('fence');
      expect(res.body).not.toHaveProperty('leaseOwner');
    });

    it.each([MISSING, 'not-a-uuid', '..%2F..%2Fetc', "1' OR '1'='1"])('answers 404 for %s', async (id) => {
      const res = await http().get(`/jobs/${id}`).set(asA).expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Job not found.' });
    });
  });

  describe('DELETE /jobs/:jobId (stop)', () => {
    it('stops a running job (200), then 409 once it is finished', async () => {
      const job = await runner.dispatch(WaitForStopJob, { ms: 30_000 }, { owner: userA });
      await settled(job.jobId, [JobStatus.Running]);
      const res = await http().delete(`/jobs/${job.jobId}`).set(asA).expect(200);
      expect(res.body.status).toBe('stopped');
      expect((await runner.find(job.jobId))!.status).toBe(JobStatus.Stopped);
      const again = await http().delete(`/jobs/${job.jobId}`).set(asA).expect(409);
      expect(again.body.statusCode).toBe(409);
    });

    it('stops a pending job', async () => {
      const job = await runner.dispatch(WaitForStopJob, { ms: 10 }, { owner: userA, delayMs: 60_000 });
      const res = await http().delete(`/jobs/${job.jobId}`).set(asA).expect(200);
      expect(res.body.status).toBe('stopped');
    });

    it('answers 409 for a completed job and 404 for a missing one', async () => {
      const job = await runner.dispatch(GenerateReportJob, { ...report, rows: 1 }, { owner: userA });
      await settled(job.jobId);
      await http().delete(`/jobs/${job.jobId}`).set(asA).expect(409);
      await http().delete(`/jobs/${MISSING}`).set(asA).expect(404);
      await http().delete(`/jobs/nope`).set(asA).expect(404);
    });
  });

  describe('POST /jobs/:jobId/retry', () => {
    it('retries a failed job (202), keeping its checkpoint and finished steps', async () => {
      const probe = app.get(HttpProbe);
      const job = await runner.dispatch(ResumableJob, {}, { owner: userA });
      const failed = await settled(job.jobId);
      expect(failed.status).toBe(JobStatus.Failed);
      const res = await http().post(`/jobs/${job.jobId}/retry`).set(asA).set(JSON_TYPE).expect(202);
      expect(res.body).toMatchObject({ jobId: job.jobId, progress: 0 });
      expect(['pending', 'running', 'completed']).toContain(res.body.status);
      const done = await settled(job.jobId);
      expect(done.status).toBe(JobStatus.Completed);
      expect(done.result).toBe('resumed');
      expect(probe.stepRuns.get(job.jobId)).toBe(1);
      expect(probe.statesSeen.filter((s) => s.jobId === job.jobId).map((s) => s.state)).toEqual([null, { cursor: 3 }]);
    });

    it('retries a stopped job, and answers 409 for pending, running or completed ones', async () => {
      const pending = await runner.dispatch(WaitForStopJob, { ms: 10 }, { owner: userA, delayMs: 60_000 });
      await http().post(`/jobs/${pending.jobId}/retry`).set(asA).set(JSON_TYPE).expect(409);
      await http().delete(`/jobs/${pending.jobId}`).set(asA).expect(200);
      await http().post(`/jobs/${pending.jobId}/retry`).set(asA).set(JSON_TYPE).expect(202);
      await settled(pending.jobId);

      const running = await runner.dispatch(WaitForStopJob, { ms: 30_000 }, { owner: userA });
      await settled(running.jobId, [JobStatus.Running]);
      await http().post(`/jobs/${running.jobId}/retry`).set(asA).set(JSON_TYPE).expect(409);
      await runner.stop(running.jobId);

      const completed = await runner.dispatch(GenerateReportJob, { ...report, rows: 1 }, { owner: userA });
      await settled(completed.jobId);
      const res = await http().post(`/jobs/${completed.jobId}/retry`).set(asA).set(JSON_TYPE).expect(409);
      expect(res.body.status).toBe('completed');
      await http().post(`/jobs/${MISSING}/retry`).set(asA).set(JSON_TYPE).expect(404);
    });
  });

  describe('files', () => {
    let jobId: string;
    let ids: string[];

    beforeAll(async () => {
      const job = await runner.dispatch(
        WriteFilesJob,
        {
          files: [
            { name: 'report.csv', content: 'a,b\n1,2\n', mimeType: 'text/csv' },
            { name: 'old.txt', content: 'old', expiresInMs: -1000 },
            { name: 'page.html', content: '<script>alert(1)</script>', mimeType: 'text/html' },
          ],
        },
        { owner: userA },
      );
      jobId = job.jobId;
      const done = await settled(jobId);
      expect(done.status).toBe(JobStatus.Completed);
      ids = (done.result as { ids: string[] }).ids;
    });

    it('lists unexpired files without storage paths', async () => {
      const res = await http().get(`/jobs/${jobId}/files`).set(asA).expect(200);
      expect(res.body.data.map((f: any) => f.filename)).toEqual(['report.csv', 'page.html']);
      expect(res.body.data[0]).toEqual({
        fileId: ids[0],
        jobId,
        filename: 'report.csv',
        mimeType: 'text/csv',
        sizeBytes: 8,
        expiresAt: expect.any(String),
        createdAt: expect.any(String),
      });
    });

    it('streams a download with its type, an attachment disposition and nosniff', async () => {
      const res = await http().get(`/jobs/${jobId}/files/${ids[0]}/download`).set(asA).buffer(true).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="report.csv"; filename*=UTF-8''report.csv`);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-length']).toBe('8');
      expect(res.text).toBe('a,b\n1,2\n');
    });

    it('sends HTML as an attachment that the browser must not sniff', async () => {
      const res = await http().get(`/jobs/${jobId}/files/${ids[2]}/download`).set(asA).expect(200);
      expect(res.headers['content-disposition']).toMatch(/^attachment;/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it('answers 404 for an expired, missing or malformed file id', async () => {
      await http().get(`/jobs/${jobId}/files/${ids[1]}/download`).set(asA).expect(404);
      await http().get(`/jobs/${jobId}/files/${MISSING}/download`).set(asA).expect(404);
      await http().get(`/jobs/${jobId}/files/nope/download`).set(asA).expect(404);
      await http().get(`/jobs/${MISSING}/files/${ids[0]}/download`).set(asA).expect(404);
      await http().get(`/jobs/${MISSING}/files`).set(asA).expect(404);
    });

    it('answers 404 when the stored file is gone from disk', async () => {
      const job = await runner.dispatch(WriteFilesJob, { files: [{ name: 'gone.txt', content: 'x' }] }, { owner: userA });
      const done = await settled(job.jobId);
      const [fileId] = (done.result as { ids: string[] }).ids;
      const [file] = await runner.files(job.jobId);
      const { rm } = await import('node:fs/promises');
      const { join } = await import('node:path');
      const root = app.get<LocalStorageDriver>(STORAGE_DRIVER).root;
      await rm(join(root, file.path));
      await http().get(`/jobs/${job.jobId}/files/${fileId}/download`).set(asA).expect(404);
    });
  });

  describe('another owner’s job', () => {
    let jobId: string;
    let fileId: string;
    let snapshot: unknown;

    beforeAll(async () => {
      const job = await runner.dispatch(WriteFilesJob, { files: [{ name: 'b.txt', content: 'secret of b' }] }, { owner: userB });
      jobId = job.jobId;
      const done = await settled(jobId);
      fileId = (done.result as { ids: string[] }).ids[0];
      snapshot = (await http().get(`/jobs/${jobId}`).set(asB).expect(200)).body;
    });

    it.each([
      ['A', asA],
      ['A in B’s tenant with A’s user id', { 'x-user': 'user-a', 'x-tenant': 'tenant-2' }],
      ['B’s user id in another tenant', { 'x-user': 'user-b', 'x-tenant': 'tenant-1' }],
    ])('is a 404 on every route for %s, exactly like a missing job', async (_who, headers) => {
      const routes: Array<[string, (id: string) => string]> = [
        ['get', (id) => `/jobs/${id}`],
        ['delete', (id) => `/jobs/${id}`],
        ['post', (id) => `/jobs/${id}/retry`],
        ['get', (id) => `/jobs/${id}/files`],
        ['get', (id) => `/jobs/${id}/files/${fileId}/download`],
      ];
      for (const [method, path] of routes) {
        const theirs = await (http() as any)[method](path(jobId)).set(headers).set(JSON_TYPE);
        const missing = await (http() as any)[method](path(MISSING)).set(headers).set(JSON_TYPE);
        expect([method, path(jobId), theirs.status]).toEqual([method, path(jobId), 404]);
        expect(theirs.body).toEqual(missing.body);
        expect(theirs.text).not.toContain('secret of b');
      }
      const list = await http().get('/jobs?limit=100').set(headers).expect(200);
      expect(list.body.data.map((j: any) => j.jobId)).not.toContain(jobId);
    });

    it('is unchanged afterwards', async () => {
      const now = (await http().get(`/jobs/${jobId}`).set(asB).expect(200)).body;
      expect(now).toEqual(snapshot);
      const download = await http().get(`/jobs/${jobId}/files/${fileId}/download`).set(asB).buffer(true).expect(200);
      expect(download.text).toBe('secret of b');
    });
  });
});
