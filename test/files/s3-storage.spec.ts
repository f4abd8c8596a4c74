import type { INestApplication } from '@nestjs/common';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJobFilesService, ManagedJobsConfigurationError, S3StorageDriver, UnsafeFilePathError } from '../../lib/index.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { startS3Server, type S3TestServer } from '../support/s3-server.mjs';
import { createHttpApp, asA, asB } from '../http/http-app.js';
import { HostileFilesJob, HttpProbe, httpJobs, WriteFilesJob } from '../http/http-jobs.js';
import { StreamFileJob } from './s3-jobs.js';

const userA = { getManagedJobOwnerId: () => 'user-a', getManagedJobTenantId: () => 'tenant-1' };
const PREFIX = 'tenant-a/jobs/';
const MIB = 1024 * 1024;

/** Files are database-agnostic: SQLite and PostgreSQL are enough (the cross-process spec runs on PostgreSQL). */
describe.each(['sqlite', 'postgres'] as const)('S3StorageDriver against a real S3 server (s3rver), on %s', (dialect) => {
  let s3: S3TestServer;
  let client: S3Client;
  let db: TestDatabase;
  let app: INestApplication;
  let presignApp: INestApplication;
  let runner: JobRunnerService;

  beforeAll(async () => {
    s3 = await startS3Server();
    client = new S3Client(s3.clientConfig);
    db = await createTestDatabase(dialect);
    const { forcePathStyle, ...clientConfig } = s3.clientConfig;
    const driver = new S3StorageDriver({ bucket: s3.bucket, prefix: 'tenant-a/jobs', clientConfig, forcePathStyle, partSizeBytes: 5 * MIB });
    app = await createHttpApp(db, { providers: [...httpJobs, StreamFileJob], options: { storage: { driver } } });
    // A second web app on the same database: no worker, downloads handed off to pre-signed URLs.
    const presigning = new S3StorageDriver({ bucket: s3.bucket, prefix: PREFIX, client, presign: true, presignExpiresInSeconds: 45 });
    presignApp = await createHttpApp(db, { migrate: false, providers: [...httpJobs, StreamFileJob], options: { storage: { driver: presigning }, worker: { enabled: false } } });
    runner = app.get(JobRunnerService);
  });

  afterAll(async () => {
    await presignApp?.close();
    await app?.close();
    await db?.drop();
    client?.destroy();
    await s3?.stop();
  });

  const finished = (jobId: string) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && [JobStatus.Completed, JobStatus.Failed, JobStatus.Stopped].includes(job.status) ? job : null;
    }, { timeoutMs: 30_000 });

  const keys = async () => ((await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  const head = (key: string) => client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })).then((o) => o.ContentLength, (e) => (e.$metadata?.httpStatusCode === 404 ? null : Promise.reject(e)));
  const download = (target: INestApplication, jobId: string, fileId: string, as = asA) =>
    request(target.getHttpServer()).get(`/jobs/${jobId}/files/${fileId}/download`).set(as).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });

  it('streams a putFile stream into the bucket under the prefix (multipart) and back to its owner only', async () => {
    const bytes = 6 * MIB + 123; // two parts of 5 MiB at most
    const job = await runner.dispatch(StreamFileJob, { name: 'big report.bin', bytes, fill: 'z' }, { owner: userA });
    const done = await finished(job.jobId);
    expect(done.status).toBe(JobStatus.Completed);
    const { fileId, path, sizeBytes } = done.result as { fileId: string; path: string; sizeBytes: number };
    expect(path).toBe(`${job.jobId}/${fileId}/big_report.bin`);
    expect(Number(sizeBytes)).toBe(bytes);
    expect(await head(PREFIX + path)).toBe(bytes);

    const res = await download(app, job.jobId, fileId);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="big report.bin"; filename*=UTF-8''big%20report.bin`);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-length']).toBe(String(bytes));
    expect((res.body as Buffer).length).toBe(bytes);
    expect((res.body as Buffer).equals(Buffer.alloc(bytes, 'z'))).toBe(true);

    expect((await download(app, job.jobId, fileId, asB)).status).toBe(404);
  });

  it('refuses hostile names and keys outside the prefix, and records an existing object under it (addFile)', async () => {
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}own/ok.txt`, Body: 'mine' }));
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'outside/secret.txt', Body: 'top secret' }));
    const before = await keys();
    const bad = [
      { op: 'put', name: '../evil.txt' },
      { op: 'put', name: '/etc/passwd' },
      { op: 'put', name: 'a<NUL>b.txt' },
      { op: 'put', name: 'sub/evil.txt' },
      { op: 'put', name: 'sub\\evil.txt' },
      { op: 'put', name: '..' },
      { op: 'put', name: '' },
      { op: 'put', name: 'crlf\r\nname.txt' },
      { op: 'add', path: '../outside/secret.txt' },
      { op: 'add', path: '../../../../etc/passwd' },
      { op: 'add', path: '/outside/secret.txt' },
      { op: 'add', path: 'own/../../../outside/secret.txt' },
      { op: 'add', path: 'own/../ok.txt' },
      { op: 'add', path: './own/ok.txt' },
      { op: 'add', path: 'own//ok.txt' },
      { op: 'add', path: 'own\\ok.txt' },
      { op: 'add', path: 'a<NUL>b.txt' },
      { op: 'add', path: 'tab\there.txt' },
      { op: 'add', path: '' },
      { op: 'add', path: 'x'.repeat(1100) },
      { op: 'add', path: `s3://other-bucket/${PREFIX}own/ok.txt` },
      { op: 'add', path: `s3://${s3.bucket}/outside/secret.txt` },
      { op: 'add', path: `s3://${s3.bucket}/tenant-a/jobs-evil/x.txt` },
      { op: 'add', path: `s3://${s3.bucket}/${PREFIX}../../outside/secret.txt` },
      { op: 'add', path: 'own/ok.txt', name: '../renamed.txt' },
    ];
    const good = [
      { op: 'add', path: 'own/ok.txt', name: 'ok.txt' },
      { op: 'add', path: `s3://${s3.bucket}/${PREFIX}own/ok.txt`, name: 'by-uri.txt' },
      { op: 'put', name: 'weird name ..txt' },
    ];
    const job = await runner.dispatch(HostileFilesJob, { ops: [...bad, ...good] as Array<{ op: 'put' | 'add'; name?: string; path?: string }> }, { owner: userA });
    expect((await finished(job.jobId)).status).toBe(JobStatus.Completed);

    const outcomes = app.get(HttpProbe).outcomes.get(job.jobId)!;
    expect(outcomes.slice(0, bad.length).map((o) => [JSON.parse(o.op), o.ok, o.error])).toEqual(
      bad.map((b) => [b, false, b.op === 'put' || b.name ? 'InvalidFileNameError' : 'UnsafeFilePathError']),
    );
    expect(outcomes.slice(bad.length).map((o) => o.ok)).toEqual([true, true, true]);

    // Files recorded in the same millisecond have no order between them: they are found by name.
    const files = await runner.files(job.jobId);
    const byName = (name: string) => files.find((f) => f.filename === name)!;
    expect(files.map((f) => f.path).sort()).toEqual([expect.stringMatching(new RegExp(`^${job.jobId}/[0-9a-f-]{36}/weird_name_..txt$`)), 'own/ok.txt', 'own/ok.txt']);
    expect([byName('ok.txt').path, byName('by-uri.txt').path]).toEqual(['own/ok.txt', 'own/ok.txt']);
    // One object more, the put one, under the prefix; the object outside it is untouched.
    expect((await keys()).filter((k) => !before.includes(k))).toEqual([PREFIX + byName('weird name ..txt').path]);
    expect(await head('outside/secret.txt')).toBe(10);

    // The recorded existing object downloads through the controller.
    const res = await download(app, job.jobId, byName('by-uri.txt').jobFileId);
    expect([res.status, res.headers['content-disposition'], (res.body as Buffer).toString()]).toEqual([200, `attachment; filename="by-uri.txt"; filename*=UTF-8''by-uri.txt`, 'mine']);
  });

  it('answers 404 for a file whose object is gone, streamed or pre-signed', async () => {
    const job = await runner.dispatch(WriteFilesJob, { files: [{ name: 'gone.txt', content: 'soon gone' }] }, { owner: userA });
    await finished(job.jobId);
    const [file] = await runner.files(job.jobId);
    expect((await download(app, job.jobId, file.jobFileId)).status).toBe(200);
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: PREFIX + file.path }));
    for (const target of [app, presignApp]) {
      const res = await download(target, job.jobId, file.jobFileId);
      expect([res.status, res.headers.location]).toEqual([404, undefined]);
    }
  });

  it('with presign, redirects the owner (302, not cached) to a short-lived URL serving the file with the download headers', async () => {
    const job = await runner.dispatch(WriteFilesJob, { files: [{ name: 'résumé "final".csv', content: 'a,b\n1,2\n', mimeType: 'text/csv' }] }, { owner: userA });
    await finished(job.jobId);
    const [file] = await runner.files(job.jobId);

    const res = await download(presignApp, job.jobId, file.jobFileId);
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('private, no-store');
    const url = new URL(res.headers.location);
    expect(url.origin).toBe(s3.endpoint);
    expect(url.pathname).toBe(`/${s3.bucket}/${PREFIX}${file.path}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('45');
    // Signed (s3rver does not check signatures, AWS and the compatible stores do).
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);

    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('text/csv');
    expect(fetched.headers.get('content-disposition')).toBe(`attachment; filename="resume _final_.csv"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.csv`);
    expect(fetched.headers.get('cache-control')).toBe('private, no-store');
    expect(await fetched.text()).toBe('a,b\n1,2\n');

    // Owner scoping comes first: another owner gets the 404 of a missing job, and no URL.
    const other = await download(presignApp, job.jobId, file.jobFileId, asB);
    expect([other.status, other.headers.location]).toEqual([404, undefined]);
  });

  it('expireFiles() deletes the expired objects from the bucket and keeps the others', async () => {
    const files = app.get(ManagedJobFilesService);
    await files.expireFiles();
    const job = await runner.dispatch(
      WriteFilesJob,
      { files: [{ name: 'old.txt', content: 'o', expiresInMs: -60_000 }, { name: 'keep.txt', content: 'k' }, { name: 'old-2.txt', content: 'p', expiresInMs: -1 }] },
      { owner: userA },
    );
    await finished(job.jobId);
    const rows = (await app.get(DataSource).query(`SELECT filename, path FROM managed_job_files WHERE job_id = ${dialect === 'postgres' ? '$1' : '?'} ORDER BY filename`, [job.jobId])) as Array<{ filename: string; path: string }>;
    for (const row of rows) expect(await head(PREFIX + row.path)).toBe(1);

    expect(await files.expireFiles()).toBe(2);
    expect(Object.fromEntries(await Promise.all(rows.map(async (r) => [r.filename, await head(PREFIX + r.path)])))).toEqual({ 'keep.txt': 1, 'old.txt': null, 'old-2.txt': null });
    expect((await runner.files(job.jobId)).map((f) => f.filename)).toEqual(['keep.txt']);
    expect(await files.expireFiles()).toBe(0);
  });
});

describe('S3StorageDriver options and keys', () => {
  it('refuses a missing bucket, a prefix with dot segments and out-of-range numbers at construction', () => {
    expect(() => new S3StorageDriver({ bucket: '' })).toThrow(ManagedJobsConfigurationError);
    expect(() => new S3StorageDriver({ bucket: 'b', prefix: 'a/../b' })).toThrow(/"prefix" is invalid/);
    expect(() => new S3StorageDriver({ bucket: 'b', presignExpiresInSeconds: 0 })).toThrow(/"presignExpiresInSeconds" is invalid/);
    expect(() => new S3StorageDriver({ bucket: 'b', presignExpiresInSeconds: 8 * 24 * 3600 })).toThrow(ManagedJobsConfigurationError);
    expect(() => new S3StorageDriver({ bucket: 'b', partSizeBytes: 1024 })).toThrow(/"partSizeBytes" is invalid/);
  });

  it('keeps stored paths relative to the prefix (default managed-jobs/), and the whole bucket with an empty prefix', async () => {
    const driver = new S3StorageDriver({ bucket: 'bkt' });
    expect(driver.prefix).toBe('managed-jobs/');
    expect(await driver.resolve('a/b.txt')).toBe('a/b.txt');
    expect(await driver.resolve('s3://bkt/managed-jobs/a/b.txt')).toBe('a/b.txt');
    await expect(driver.resolve('s3://bkt/other/a.txt')).rejects.toBeInstanceOf(UnsafeFilePathError);
    const whole = new S3StorageDriver({ bucket: 'bkt', prefix: '' });
    expect(await whole.resolve('s3://bkt/other/a.txt')).toBe('other/a.txt');
    await expect(whole.resolve('../a.txt')).rejects.toBeInstanceOf(UnsafeFilePathError);
    expect(new S3StorageDriver({ bucket: 'bkt', prefix: '/x/y' }).prefix).toBe('x/y/');
  });
});
