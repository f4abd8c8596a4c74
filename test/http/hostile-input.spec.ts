import { CallHandler, CanActivate, ExecutionContext, INestApplication, Injectable, NestInterceptor } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { map } from 'rxjs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJobsModule } from '../../lib/index.js';
import { attachmentDisposition } from '../../lib/http/content-disposition.js';
import { createTestDatabase, dialects, tmpDir, waitFor, type TestDatabase } from '../support/databases.js';
import { GenerateReportJob, Probe } from '../fixtures/jobs.js';
import { asA, asB, createHttpApp } from './http-app.js';
import { httpJobs, WriteFilesJob } from './http-jobs.js';

const report = { from: '2024-01-01', to: '2024-12-31', rows: 1 };
const userA = { getManagedJobOwnerId: () => 'user-a', getManagedJobTenantId: () => 'tenant-1' };
const providers = [Probe, GenerateReportJob, ...httpJobs];
const tenMb = () => JSON.stringify({ type: 'generate-report', payload: { ...report, pad: 'x'.repeat(10 * 1024 * 1024) } });

/** Sends a body with `Transfer-Encoding: chunked` (no Content-Length), as a streaming client would. */
async function postChunked(app: INestApplication, path: string, body: string, headers: Record<string, string>): Promise<number> {
  const server = app.getHttpServer();
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path, method: 'POST', headers: { ...headers, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024));
    req.end();
  });
}

describe.each(dialects)('hostile HTTP input on %s', (dialect) => {
  let db: TestDatabase;
  const apps: INestApplication[] = [];
  const open = async (...args: Parameters<typeof createHttpApp>) => {
    const app = await createHttpApp(...args);
    apps.push(app);
    return app;
  };
  const total = async (app: INestApplication) => (await app.get(JobRunnerService).list({})).meta.total;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });

  // One app at a time: a worker of an earlier app would otherwise claim this test's jobs.
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  afterAll(async () => {
    await db?.drop();
  });

  describe('body size', () => {
    it('answers 413 to a 10 MB body with the default set-up, and keeps serving', async () => {
      const app = await open(db, { providers });
      const res = await request(app.getHttpServer()).post('/jobs').set(asA).set('content-type', 'application/json').send(tenMb());
      expect(res.status).toBe(413);
      expect(await total(app)).toBe(0);
      await request(app.getHttpServer()).post('/jobs').set(asA).send({ type: 'generate-report', payload: report }).expect(202);
    });

    it('enforces http.bodyLimitBytes below the app’s own parser limit', async () => {
      const app = await open(db, { providers, options: { http: { bodyLimitBytes: 1024 }, worker: { enabled: false } } });
      const before = await total(app);
      const big = { type: 'generate-report', payload: { ...report, pad: 'x'.repeat(5000) } };
      await request(app.getHttpServer()).post('/jobs').set(asA).send(big).expect(413);
      await request(app.getHttpServer()).post('/jobs').set(asA).send({ type: 'generate-report', payload: report }).expect(202);
      expect(await total(app)).toBe(before + 1);
    });

    it('enforces the limit when the app raised its parser limit to 50 MB (Content-Length and chunked)', async () => {
      const app = await open(db, {
        providers,
        options: { worker: { enabled: false } },
        app: { bodyParser: false },
        configure: (a) => (a as NestExpressApplication).useBodyParser('json', { limit: '50mb' }),
      });
      const before = await total(app);
      await request(app.getHttpServer()).post('/jobs').set(asA).set('content-type', 'application/json').send(tenMb()).expect(413);
      expect(await postChunked(app, '/jobs', tenMb(), asA)).toBe(413);
      expect(await total(app)).toBe(before);
    });

    it('reads the body itself, limited, when the app turned body parsing off', async () => {
      const app = await open(db, { providers, options: { worker: { enabled: false } }, app: { bodyParser: false } });
      const before = await total(app);
      await request(app.getHttpServer()).post('/jobs').set(asA).set('content-type', 'application/json').send(tenMb()).expect(413);
      expect(await postChunked(app, '/jobs', tenMb(), asA)).toBe(413);
      await request(app.getHttpServer()).post('/jobs').set(asA).set('content-type', 'text/plain').send('{}').expect(415);
      await request(app.getHttpServer()).post('/jobs').set(asA).set('content-type', 'application/json').send('{"type":').expect(400);
      await request(app.getHttpServer())
        .post('/jobs')
        .set(asA)
        .set('content-type', 'application/json')
        .send(`{"__proto__":{"polluted":1},"type":"generate-report","payload":${JSON.stringify(report)}}`)
        .expect(400);
      expect(({} as any).polluted).toBeUndefined();
      await request(app.getHttpServer()).post('/jobs').set(asA).set('content-type', 'application/json').send(JSON.stringify({ type: 'generate-report', payload: report })).expect(202);
      expect(await total(app)).toBe(before + 1);
    });
  });

  describe('download headers', () => {
    const hostile = [
      'a"b.txt',
      'x;y=z.txt',
      '" ; filename="hack.exe',
      'évidence-à-l’été.txt',
      '報告書.csv',
      '😀 emoji.txt',
      'evil\r\nSet-Cookie: session=stolen.txt',
      'line\nbreak.txt',
      "it's (a) *test* 100%.txt",
      '..\\..\\windows.ini',
    ];

    it.each(hostile)('builds exactly one safe Content-Disposition for %j', async (name) => {
      const header = attachmentDisposition(name);
      expect(header).toMatch(/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9!#$&+\-.^_`|~%]+$/);
      const fallback = /filename="([^"]*)"/.exec(header)![1];
      expect(fallback).not.toMatch(/["\\;%]/);
      expect(decodeURIComponent(header.split("filename*=UTF-8''")[1])).toBe(name);
    });

    it('sends them over HTTP without header injection', async () => {
      const app = await open(db, { providers });
      const runner = app.get(JobRunnerService);
      const ds = app.get(DataSource);
      const job = await runner.dispatch(WriteFilesJob, { files: hostile.map((_, i) => ({ name: `f${i}.txt`, content: `file ${i}` })) }, { owner: userA });
      const done = await waitFor(async () => {
        const j = await runner.find(job.jobId);
        return j?.status === JobStatus.Completed ? j : null;
      });
      const ids = (done.result as { ids: string[] }).ids;
      // Records made by another tool (or an older version) may hold any name: set them directly.
      const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
      for (const [i, name] of hostile.entries()) {
        await ds.query(`UPDATE managed_job_files SET filename = ${p(1)} WHERE job_file_id = ${p(2)}`, [name, ids[i]]);
      }
      for (const [i, name] of hostile.entries()) {
        const res = await request(app.getHttpServer()).get(`/jobs/${job.jobId}/files/${ids[i]}/download`).set(asA).buffer(true).expect(200);
        const raw = (res as any).res.rawHeaders.filter((_: string, k: number) => k % 2 === 0).map((h: string) => h.toLowerCase());
        expect(raw.filter((h: string) => h === 'content-disposition')).toHaveLength(1);
        expect(raw).not.toContain('set-cookie');
        expect(res.headers['content-disposition']).toBe(attachmentDisposition(name));
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.text).toBe(`file ${i}`);
      }
      // A stored MIME type that is not one falls back to a safe one.
      await ds.query(`UPDATE managed_job_files SET mime_type = ${p(1)} WHERE job_file_id = ${p(2)}`, ['text/html\r\nX-Evil: 1', ids[0]]);
      const res = await request(app.getHttpServer()).get(`/jobs/${job.jobId}/files/${ids[0]}/download`).set(asA).expect(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['x-evil']).toBeUndefined();
    });
  });

  describe('guards, interceptors, owner resolution and path', () => {
    @Injectable()
    class DenyHeaderGuard implements CanActivate {
      canActivate(context: ExecutionContext) {
        return context.switchToHttp().getRequest().headers['x-deny'] === undefined;
      }
    }
    @Injectable()
    class StampInterceptor implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler) {
        context.switchToHttp().getResponse().setHeader('x-stamped', 'yes');
        return next.handle().pipe(map((body) => body));
      }
    }

    it('applies configured guards and interceptors, and a custom path, with forRootAsync', async () => {
      const app = await open(db, {
        providers,
        managedJobs: ManagedJobsModule.forRootAsync({
          controller: true,
          useFactory: async () => ({
            storage: { root: tmpDir('storage') },
            worker: { enabled: false },
            http: {
              path: 'api/background-jobs',
              guards: [DenyHeaderGuard],
              interceptors: [new StampInterceptor()],
              resolveOwner: (req: any) => (req.headers['x-api-user'] ? { getManagedJobOwnerId: () => req.headers['x-api-user'] } : null),
            },
          }),
        }),
      });
      const server = app.getHttpServer();
      await request(server).get('/jobs').set(asA).expect(404);
      const ok = await request(server).get('/api/background-jobs').set('x-api-user', 'u1').expect(200);
      expect(ok.headers['x-stamped']).toBe('yes');
      await request(server).get('/api/background-jobs').set('x-api-user', 'u1').set('x-deny', '1').expect(403);
      await request(server).post('/api/background-jobs').set('x-api-user', 'u1').set('x-deny', '1').send({ type: 'generate-report', payload: report }).expect(403);
      // resolveOwner decides: req.user (set by the x-user header) is not used.
      await request(server).get('/api/background-jobs').set(asA).expect(401);
      const created = await request(server).post('/api/background-jobs').set('x-api-user', 'u1').send({ type: 'generate-report', payload: report }).expect(202);
      const job = await app.get(JobRunnerService).find(created.body.jobId);
      expect([job!.ownerUserId, job!.ownerTenantId]).toEqual(['u1', null]);
    });

    it('mounts nothing unless asked', async () => {
      const app = await open(db, { providers, options: { http: { enabled: false }, worker: { enabled: false } } });
      await request(app.getHttpServer()).get('/jobs').set(asA).expect(404);
    });

    it('accepts a req.user that implements JobOwner, and refuses unusable owners with 401', async () => {
      const app = await open(db, {
        providers,
        options: { worker: { enabled: false } },
        configure: (a) =>
          a.use((req: any, _res: any, next: () => void) => {
            const kind = req.headers['x-kind'];
            if (kind === 'owner') req.user = { getManagedJobOwnerId: () => 42, getManagedJobTenantId: () => null };
            if (kind === 'empty') req.user = { id: '' };
            if (kind === 'object-id') req.user = { id: { $ne: null } };
            next();
          }),
      });
      const server = app.getHttpServer();
      await request(server).get('/jobs').set('x-kind', 'owner').expect(200);
      await request(server).get('/jobs').set('x-kind', 'empty').expect(401);
      await request(server).get('/jobs').set('x-kind', 'object-id').expect(401);
      await request(server).get('/jobs').set(asB).expect(200);
    });
  });
});
