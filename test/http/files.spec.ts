import type { INestApplication } from '@nestjs/common';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { JobRunnerService, JobStatus, ManagedJobFilesService, ManagedJobsMaintenanceService } from '../../lib/index.js';
import { STORAGE_DRIVER } from '../../lib/managed-jobs.constants.js';
import { createTestDatabase, dialects, tmpDir, waitFor, type TestDatabase } from '../support/databases.js';
import { createHttpApp } from './http-app.js';
import { HostileFilesJob, HttpProbe, httpJobs, WriteFilesJob } from './http-jobs.js';

const userA = { getManagedJobOwnerId: () => 'user-a', getManagedJobTenantId: () => 'tenant-1' };
const DAY = 24 * 60 * 60 * 1000;

/** Every file under `dir`, as root-relative paths (symlinks listed, not followed). */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

describe.each(dialects)('job files on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let ds: DataSource;
  let root: string;
  const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    root = tmpDir('files-root');
    app = await createHttpApp(db, { providers: httpJobs, options: { storage: { root }, retentionDays: 30 } });
    runner = app.get(JobRunnerService);
    ds = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const finished = (jobId: string) =>
    waitFor(async () => {
      const job = await runner.find(jobId);
      return job && [JobStatus.Completed, JobStatus.Failed, JobStatus.Stopped].includes(job.status) ? job : null;
    }, { timeoutMs: 20_000 });

  const fileRows = async (jobId: string) =>
    (await ds.query(`SELECT job_file_id, path, deleted_at FROM managed_job_files WHERE job_id = ${p(1)} ORDER BY created_at, job_file_id`, [jobId])) as Array<{
      job_file_id: string;
      path: string;
      deleted_at: unknown;
    }>;

  it('refuses hostile names and paths in putFile/addFile with no side effects', async () => {
    const outside = tmpDir('outside');
    writeFileSync(join(outside, 'secret.txt'), 'top secret');
    symlinkSync(outside, join(root, 'link'));
    mkdirSync(join(root, 'own'));
    writeFileSync(join(root, 'own', 'ok.txt'), 'mine');
    const before = tree(root);

    const bad = [
      { op: 'put', name: '../evil.txt' },
      { op: 'put', name: '/etc/passwd' },
      { op: 'put', name: 'a<NUL>b.txt' },
      { op: 'put', name: 'sub/evil.txt' },
      { op: 'put', name: 'sub\\evil.txt' },
      { op: 'put', name: '..' },
      { op: 'put', name: '' },
      { op: 'put', name: 'crlf\r\nname.txt' },
      { op: 'add', path: '../outside.txt' },
      { op: 'add', path: '../../../../etc/passwd' },
      { op: 'add', path: '/etc/passwd' },
      { op: 'add', path: join(outside, 'secret.txt') },
      { op: 'add', path: 'own/../../escape.txt' },
      { op: 'add', path: 'a<NUL>b.txt' },
      { op: 'add', path: 'link/secret.txt' },
      { op: 'add', path: 'link/new.txt' },
      { op: 'add', path: '' },
      { op: 'add', path: 'own/ok.txt', name: '../renamed.txt' },
    ];
    const good = [
      { op: 'add', path: 'own/ok.txt', name: 'ok.txt' },
      { op: 'add', path: join(root, 'own', 'ok.txt'), name: 'absolute-inside.txt' },
      { op: 'put', name: 'weird name ..txt' },
    ];
    const job = await runner.dispatch(HostileFilesJob, { ops: [...bad, ...good] as Array<{ op: 'put' | 'add'; name?: string; path?: string }> }, { owner: userA });
    expect((await finished(job.jobId)).status).toBe(JobStatus.Completed);

    const outcomes = app.get(HttpProbe).outcomes.get(job.jobId)!;
    expect(outcomes.slice(0, bad.length).map((o) => [JSON.parse(o.op), o.ok, o.error])).toEqual(
      bad.map((b) => [b, false, b.op === 'put' || b.name ? 'InvalidFileNameError' : 'UnsafeFilePathError']),
    );
    expect(outcomes.slice(bad.length).every((o) => o.ok)).toBe(true);

    const rows = await fileRows(job.jobId);
    expect(rows.map((r) => r.path).slice(0, 2)).toEqual(['own/ok.txt', 'own/ok.txt']);
    expect(rows).toHaveLength(3);
    expect(tree(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    const added = tree(root).filter((f) => !before.includes(f));
    expect(added).toEqual([rows[2].path]);
    expect(rows[2].path).toMatch(new RegExp(`^${job.jobId}/[0-9a-f-]{36}/weird_name_..txt$`));
  });

  it('lets files expire after fileExpiryDays (3) by default, or at expiresAt', async () => {
    const job = await runner.dispatch(WriteFilesJob, { files: [{ name: 'a.txt', content: 'a' }, { name: 'b.txt', content: 'b', expiresInMs: 2 * 60 * 60 * 1000 }] }, { owner: userA });
    await finished(job.jobId);
    const [a, b] = await runner.files(job.jobId);
    expect(Math.abs(a.expiresAt.getTime() - (Date.now() + 3 * DAY))).toBeLessThan(5 * 60 * 1000);
    expect(Math.abs(b.expiresAt.getTime() - (Date.now() + 2 * 60 * 60 * 1000))).toBeLessThan(5 * 60 * 1000);
  });

  it('expireFiles() deletes exactly the expired files from disk and database', async () => {
    const files = app.get(ManagedJobFilesService);
    await files.expireFiles(); // start from a clean slate
    const one = await runner.dispatch(
      WriteFilesJob,
      {
        files: [
          { name: 'old-1.txt', content: '1', expiresInMs: -60_000 },
          { name: 'keep-1.txt', content: 'k', expiresInMs: 60 * 60 * 1000 },
          { name: 'old-2.txt', content: '2', expiresInMs: -1 },
          { name: 'keep-2.txt', content: 'k' },
        ],
      },
      { owner: userA },
    );
    const two = await runner.dispatch(WriteFilesJob, { files: [{ name: 'old-3.txt', content: '3', expiresInMs: -DAY }] }, { owner: userA });
    await finished(one.jobId);
    await finished(two.jobId);
    const rows = [...(await fileRows(one.jobId)), ...(await fileRows(two.jobId))];
    expect(rows.every((r) => existsSync(join(root, r.path)))).toBe(true);

    expect(await files.expireFiles()).toBe(3);

    const after = [...(await fileRows(one.jobId)), ...(await fileRows(two.jobId))];
    const expired = after.filter((r) => r.deleted_at !== null).map((r) => r.path.split('/').pop());
    expect(expired.sort()).toEqual(['old-1.txt', 'old-2.txt', 'old-3.txt']);
    for (const r of after) expect(existsSync(join(root, r.path))).toBe(r.deleted_at === null);
    expect((await runner.files(one.jobId)).map((f) => f.filename)).toEqual(['keep-1.txt', 'keep-2.txt']);
    expect(await files.expireFiles()).toBe(0);
  });

  it('pruneFinished() deletes finished jobs older than retentionDays, their files from disk first', async () => {
    const maintenance = app.get(ManagedJobsMaintenanceService);
    const make = async () => {
      const job = await runner.dispatch(WriteFilesJob, { files: [{ name: 'x.txt', content: 'x' }, { name: 'y.txt', content: 'y', expiresInMs: -1 }] }, { owner: userA });
      await finished(job.jobId);
      return job.jobId;
    };
    const old = await make();
    const recent = await make();
    const oldStopped = (await runner.dispatch(WriteFilesJob, { files: [] }, { owner: userA, delayMs: 60_000 })).jobId;
    await runner.stop(oldStopped);
    const oldPending = (await runner.dispatch(WriteFilesJob, { files: [] }, { owner: userA, delayMs: 60_000 })).jobId;
    const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString().replace('T', ' ').replace('Z', '');
    for (const id of [old, oldStopped]) await ds.query(`UPDATE managed_jobs SET finished_at = ${p(1)} WHERE job_id = ${p(2)}`, [ago(40), id]);
    await ds.query(`UPDATE managed_jobs SET finished_at = ${p(1)} WHERE job_id = ${p(2)}`, [ago(29), recent]);
    await ds.query(`UPDATE managed_jobs SET created_at = ${p(1)} WHERE job_id = ${p(2)}`, [ago(40), oldPending]);
    const oldPaths = (await fileRows(old)).map((r) => join(root, r.path));
    expect(oldPaths.every((f) => existsSync(f))).toBe(true);

    expect(await maintenance.pruneFinished(null)).toBe(0);
    expect(await maintenance.pruneFinished()).toBe(2);

    expect(await runner.find(old)).toBeNull();
    expect(await runner.find(oldStopped)).toBeNull();
    expect(await runner.find(recent)).not.toBeNull();
    expect(await runner.find(oldPending)).not.toBeNull();
    expect(oldPaths.some((f) => existsSync(f))).toBe(false);
    expect(await fileRows(old)).toEqual([]);
    expect((await fileRows(recent)).every((r) => existsSync(join(root, r.path)))).toBe(true);
    expect(await maintenance.pruneFinished()).toBe(0);
  });

  it('uses the configured storage driver', () => {
    expect(app.get(STORAGE_DRIVER).root).toBe(root);
  });
});
