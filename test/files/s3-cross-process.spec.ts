import type { INestApplication } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { Injectable } from '@nestjs/common';
import { JobRunnerService, JobStatus, ManagedJob, S3StorageDriver, type ManagedJobHandler } from '../../lib/index.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { buildLibrary, ROOT } from '../support/processes.js';
import { startS3Server, type S3TestServer } from '../support/s3-server.mjs';
import { createHttpApp, asA } from '../http/http-app.js';

/** Registered in the web process so it can dispatch; runs only in the worker process. */
@Injectable()
@ManagedJob({ name: 's3-remote-report' })
class RemoteReportJobStub implements ManagedJobHandler {
  async handle(): Promise<never> {
    throw new Error('s3-remote-report runs in the worker process only');
  }
}

function startWorker(lib: string, db: TestDatabase, s3Options: object): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, NMJ_LIB: lib, NMJ_DB: JSON.stringify(db.typeorm), NMJ_S3: JSON.stringify(s3Options) };
  delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not for the child
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 's3-worker-process.mjs')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => String(chunk).includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code}: ${stderr}`)));
  });
}

describe('a job file written by a worker process, downloaded through another process (S3, PostgreSQL)', () => {
  let s3: S3TestServer;
  let db: TestDatabase;
  let web: INestApplication;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    const lib = buildLibrary();
    s3 = await startS3Server();
    db = await createTestDatabase('postgres');
    const { forcePathStyle, ...clientConfig } = s3.clientConfig;
    const options = { bucket: s3.bucket, prefix: 'shared/files', clientConfig, forcePathStyle };
    // The web process: controller on, worker off, its own S3 client. It runs the migrations.
    web = await createHttpApp(db, { providers: [RemoteReportJobStub], options: { storage: { driver: new S3StorageDriver(options) }, worker: { enabled: false } } });
    worker = await startWorker(lib, db, options);
  }, 180_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await web?.close();
    await db?.drop();
    await s3?.stop();
  });

  it('streams the bytes the worker uploaded to the web process’s client', async () => {
    const runner = web.get(JobRunnerService);
    const job = await runner.dispatch('s3-remote-report', { lines: 20_000 }, { owner: { id: 'user-a', tenantId: 'tenant-1' } });
    const done = await waitFor(async () => {
      const now = await runner.find(job.jobId);
      return now && [JobStatus.Completed, JobStatus.Failed].includes(now.status) ? now : null;
    }, { timeoutMs: 60_000 });
    expect(done.status).toBe(JobStatus.Completed);
    const { pid, fileId } = done.result as { pid: number; fileId: string };
    expect(pid).toBe(worker!.pid);
    expect(pid).not.toBe(process.pid);

    const res = await request(web.getHttpServer()).get(`/jobs/${job.jobId}/files/${fileId}/download`).set(asA).buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.text.trimEnd().split('\n');
    expect(lines).toHaveLength(20_000);
    expect(lines[0]).toBe(`line 1 written by ${pid}`);
    expect(lines[19_999]).toBe(`line 20000 written by ${pid}`);
    const [file] = await runner.files(job.jobId);
    expect(Number(file.sizeBytes)).toBe(Buffer.byteLength(res.text));
  });
});
