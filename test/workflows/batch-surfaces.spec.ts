/**
 * Where batches show: the bundled controller (`GET` / `DELETE /jobs/batches/:batchId`, owner-scoped),
 * the operator API and service (`GET batches/:batchId`, `listJobs({ batchId })`), and the socket
 * broadcasts `batch.progress` / `batch.finished` to the owner's rooms, coalesced.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { BatchStatus, JobRunnerService, ManagedJobsOperatorService } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { connect, record, subscribe } from '../realtime/socket-client.js';
import { StepJob, workflowJobs } from './workflow-jobs.js';

const asA = { 'x-user': 'user-a', 'x-tenant': 'tenant-1' };
const asB = { 'x-user': 'user-b', 'x-tenant': 'tenant-1' };
const ownerA = { ownerId: 'user-a', tenantId: 'tenant-1' };

describe.each(dialects)('batch surfaces on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, {
      providers: workflowJobs,
      listen: true,
      options: {
        worker: { concurrency: 8 },
        http: { enabled: true },
        operator: { enabled: true, path: 'ops', authorize: (req) => req.headers['x-admin'] === 'yes' },
      },
      configure: (a) =>
        a.use((req: any, _res: any, next: () => void) => {
          if (req.headers['x-user']) req.user = { id: req.headers['x-user'], tenantId: req.headers['x-tenant'] ?? null };
          next();
        }),
    });
    runner = app.get(JobRunnerService);
  });

  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const http = () => request(app.getHttpServer());

  it('GET and DELETE /jobs/batches/:batchId act for the owner only; another owner gets a 404', async () => {
    const batch = await runner.batch([{ job: StepJob, payload: { name: 'h1', ms: 20_000 } }, { job: StepJob, payload: { name: 'h2', ms: 20_000 } }], { ...ownerA, name: 'http' });
    const mine = await http().get(`/jobs/batches/${batch.batchId}`).set(asA).expect(200);
    expect(mine.headers['cache-control']).toBe('private, no-store');
    expect(mine.body).toMatchObject({ batchId: batch.batchId, name: 'http', status: 'running', total: 2 });
    const theirs = await http().get(`/jobs/batches/${batch.batchId}`).set(asB).expect(404);
    await http().delete(`/jobs/batches/${batch.batchId}`).set(asB).expect(404);
    expect(theirs.body.message).toBe((await http().get(`/jobs/batches/00000000-0000-7000-8000-000000000000`).set(asA).expect(404)).body.message);
    await http().get(`/jobs/batches/not-a-uuid`).set(asA).expect(404);
    expect((await runner.findBatch(batch.batchId))!.status).toBe(BatchStatus.Running);
    const cancelled = await http().delete(`/jobs/batches/${batch.batchId}`).set(asA).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', stopped: 2, progress: 100 });
  });

  it('operator: GET batches/:batchId for any owner, listJobs({ batchId }) lists the members', async () => {
    const batch = await runner.batch([{ job: StepJob, payload: { name: 'o1' } }, { job: StepJob, payload: { name: 'o2' } }, { job: StepJob, payload: { name: 'o3' } }], ownerA);
    await waitFor(async () => (await runner.findBatch(batch.batchId))?.status === BatchStatus.Completed);
    const other = await runner.batch([{ job: StepJob, payload: { name: 'o4' } }], { ownerId: 'user-z' });
    const got = await http().get(`/ops/api/batches/${batch.batchId}`).set({ 'x-admin': 'yes' }).expect(200);
    expect(got.body).toMatchObject({ batchId: batch.batchId, status: 'completed', completed: 3 });
    await http().get(`/ops/api/batches/${batch.batchId}`).expect(403);
    const page = await app.get(ManagedJobsOperatorService).listJobs({ batchId: batch.batchId });
    expect(page.meta.total).toBe(3);
    expect(page.data.every((j) => j.batchId === batch.batchId)).toBe(true);
    const viaApi = await http().get(`/ops/api/jobs`).query({ batchId: other.batchId }).set({ 'x-admin': 'yes' }).expect(200);
    expect(viaApi.body.data).toHaveLength(1);
    expect((await runner.list({ batchId: batch.batchId })).meta.total).toBe(3);
    expect((await runner.list({ batchId: batch.batchId, ownerId: 'user-z' })).meta.total).toBe(0);
  });

  it('broadcasts batch.progress (coalesced) and batch.finished to the owner’s rooms', async () => {
    const socket = await connect(app);
    sockets.push(socket);
    const received = record(socket);
    expect(await subscribe(socket, 'jobs.user-a')).toEqual({ ok: true });
    const stranger = await connect(app);
    sockets.push(stranger);
    const strangerGot = record(stranger);
    expect(await subscribe(stranger, 'jobs.user-b')).toEqual({ ok: true });

    const size = 60;
    const batch = await runner.batch(Array.from({ length: size }, (_, i) => ({ job: StepJob, payload: { name: `s${i}`, ms: 5 } })), { ...ownerA, name: 'sockets' });
    await waitFor(() => received.some((r) => r.event === 'batch.finished'), { timeoutMs: 30_000 });
    const progress = received.filter((r) => r.event === 'batch.progress').map((r) => r.data);
    const finished = received.filter((r) => r.event === 'batch.finished').map((r) => r.data);
    expect(finished).toEqual([{ batchId: batch.batchId, name: 'sockets', status: 'completed', progress: 100, total: size, completed: size, failed: 0 }]);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.length).toBeLessThan(size); // coalesced: not one per member
    const values = progress.map((p: any) => p.progress);
    expect([...values].sort((a, b) => a - b)).toEqual(values); // never backwards
    expect(strangerGot.filter((r) => r.event.startsWith('batch.'))).toEqual([]);
  });
});
