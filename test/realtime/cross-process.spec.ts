import type { INestApplication } from '@nestjs/common';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { JobRunnerService } from '../../lib/index.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { CrossProcessJobStub } from './realtime-jobs.js';
import { connect, eventsOf, record, subscribe } from './socket-client.js';

const root = path.resolve(import.meta.dirname, '../..');
const buildDir = path.join(root, '.tmp', `realtime-build-${process.pid}`);
let built: string | undefined;

/** Compiles lib/ to plain JS for the child process (the shipped build, into a private folder). */
function buildLibrary(): string {
  if (built) return built;
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', buildDir, '--declaration', 'false', '--sourceMap', 'false'], {
    cwd: root,
    stdio: 'pipe',
  });
  return (built = path.join(buildDir, 'index.js'));
}

function startWorker(lib: string, db: TestDatabase): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'worker-process.mjs')], {
    cwd: root,
    env: { ...process.env, NMJ_LIB: lib, NMJ_DB: JSON.stringify(db.typeorm) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => String(chunk).includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code}: ${stderr}`)));
  });
}

/** PostgreSQL relays through NOTIFY, MySQL/MariaDB through the events table (store/mysql/event-log.ts). */
afterAll(() => fs.rmSync(buildDir, { recursive: true, force: true }));

describe.each(['postgres', 'mariadb'] as const)('events of a worker in another OS process (%s)', (dialect) => {
  let db: TestDatabase;
  let web: INestApplication;
  let worker: ChildProcess | undefined;
  let socket: Socket | undefined;

  beforeAll(async () => {
    const lib = buildLibrary();
    db = await createTestDatabase(dialect);
    // The web process: gateway on, worker off. It runs the migrations.
    web = await createTestApp(db, {
      providers: [CrossProcessJobStub],
      listen: true,
      // The operator feed (the dashboard's) hears the other process's jobs too.
      options: { worker: { enabled: false }, operator: { enabled: true, authorize: (req) => req.headers['x-admin'] === 'yes' } },
    });
    worker = await startWorker(lib, db);
  }, 180_000);

  afterAll(async () => {
    socket?.close();
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await web?.close();
    await db?.drop();
  });

  it('reaches a socket on the web process, in order, through the database', async () => {
    socket = await connect(web);
    const received = record(socket);
    expect(await subscribe(socket, 'jobs.remote-user')).toEqual({ ok: true });
    const operator = await connect(web, { namespace: '/managed-jobs/operator', headers: { 'x-admin': 'yes' } });
    const operatorReceived = record(operator);

    const job = await web.get(JobRunnerService).dispatch('cross-process', {}, { ownerId: 'remote-user', tenantId: 'remote-tenant' });
    await waitFor(() => eventsOf(received, job.jobId).some((r) => r.event === 'job.completed'), { timeoutMs: 30_000 });

    const events = eventsOf(received, job.jobId);
    const names = events.map((r) => r.event);
    expect(names[0]).toBe('job.started');
    expect(names[names.length - 1]).toBe('job.completed');
    expect(names.slice(1, -1).every((n) => n === 'job.progress')).toBe(true);
    // 4 steps 60 ms apart, coalesced at 150 ms: some values merge, the order and the last one hold.
    const progress = events.filter((r) => r.event === 'job.progress').map((r) => r.data.progress);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress[progress.length - 1]).toBe(100);
    expect(events.find((r) => r.event === 'job.progress')!.data.progressMessage).toMatch(new RegExp(`in ${worker!.pid}$`));
    const completed = events[events.length - 1].data;
    expect(completed).toMatchObject({ status: 'completed', progress: 100, ownerUserId: 'remote-user', result: { pid: worker!.pid } });
    expect(completed.result.pid).not.toBe(process.pid);
    await waitFor(() => eventsOf(operatorReceived, job.jobId).some((r) => r.event === 'job.completed'), { timeoutMs: 10_000 });
    const operatorNames = eventsOf(operatorReceived, job.jobId).map((r) => r.event);
    operator.close();
    expect(operatorNames[0]).toBe('job.started');
    expect(operatorNames.slice(1, -1).every((n) => n === 'job.progress')).toBe(true);
  });

  it('carries events too big for a NOTIFY as ids, read back by the web process', async () => {
    const received = record(socket!);
    const job = await web.get(JobRunnerService).dispatch('cross-process', { big: true }, { ownerId: 'remote-user' });
    await waitFor(() => eventsOf(received, job.jobId).some((r) => r.event === 'job.completed'), { timeoutMs: 30_000 });
    const completed = eventsOf(received, job.jobId).find((r) => r.event === 'job.completed')!.data;
    expect(completed.result.blob).toHaveLength(20_000);
    expect(completed.result.pid).toBe(worker!.pid);
  });
});
