/**
 * The operator HTTP API on a real app: every route refused without authorization (403, no data)
 * and every state-changing route refused with a form or text body (415), with nothing changed;
 * then each route doing its job for an authorized operator, with the actor from `operator.actor`.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { JobRunnerService, JobStatus, ManagedJobsOperatorService, ManagedSchedulesService } from '../../lib/index.js';
import { JobLogWriter } from '../../lib/operator/job-log.writer.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { operatorJobs } from './operator-jobs.js';

const ADMIN = { 'x-admin': 'yes', 'x-actor': 'alice' };
const API = '/ops/api';

describe.each(dialects)('operator HTTP API on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let operator: ManagedJobsOperatorService;
  let failedId: string;
  let pendingId: string;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, {
      providers: operatorJobs,
      listen: true,
      options: {
        worker: { queues: ['default'] },
        operator: {
          enabled: true,
          path: 'ops',
          authorize: (req) => {
            if (req.headers['x-admin'] === 'throw') throw new Error('auth service down');
            return req.headers['x-admin'] === 'yes';
          },
          actor: (req) => req.headers['x-actor'],
        },
        schedules: [{ name: 'nightly', cron: '0 3 * * *', job: 'op-echo', payload: {} }],
      },
    });
    runner = app.get(JobRunnerService);
    operator = app.get(ManagedJobsOperatorService);
    const failed = await runner.dispatch('op-fail', {});
    failedId = failed.jobId;
    await runner.waitFor(failedId, { timeoutMs: 20_000 });
    pendingId = (await runner.dispatch('op-echo', {}, { queue: 'held' })).jobId;
    await app.get(JobLogWriter).flush();
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const http = () => request(app.getHttpServer());
  const reads = () => ['/stats', '/jobs', `/jobs/${failedId}`, '/workers', '/batches/b1', '/schedules', '/audit'];
  const writes = () => [
    ['/jobs/retry', { jobIds: [failedId] }],
    ['/jobs/delete', { jobIds: [failedId] }],
    [`/jobs/${pendingId}/stop`, {}],
    ['/queues/held/pause', {}],
    ['/queues/held/resume', {}],
    ['/queues/held/clear', {}],
    ['/schedules/nightly/disable', {}],
    ['/schedules/nightly/enable', {}],
    ['/schedules/nightly/trigger', {}],
  ] as const;

  /** What a refused request must leave unchanged. */
  const snapshot = async () => ({
    failed: (await runner.find(failedId))?.status,
    pending: (await runner.find(pendingId))?.status,
    jobs: (await operator.listJobs({ limit: 500 })).meta.total,
    paused: (await operator.stats()).queues.find((q) => q.queue === 'held')?.paused,
    schedule: (await app.get(ManagedSchedulesService).find('nightly'))?.enabled,
    audit: (await operator.auditLog()).meta.total,
  });

  it('refuses every route without authorization: 403 and no data, nothing changed', async () => {
    const before = await snapshot();
    for (const path of reads()) {
      const res = await http().get(API + path).set({ 'x-admin': 'no' });
      expect([path, res.status]).toEqual([path, 403]);
      expect(JSON.stringify(res.body)).not.toContain(failedId);
      expect(res.body.data).toBeUndefined();
    }
    for (const [path, body] of writes()) {
      const res = await http().post(API + path).set('content-type', 'application/json').send(body);
      expect([path, res.status]).toEqual([path, 403]);
    }
    // An authorize() that throws is a refusal too.
    await http().get(`${API}/jobs`).set({ 'x-admin': 'throw' }).expect(403);
    await http().post(`${API}/queues/held/pause`).set({ 'x-admin': 'throw' }).send({}).expect(403);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses every state-changing route with a form or text body or none (415), nothing changed', async () => {
    const before = await snapshot();
    for (const [path, body] of writes()) {
      const form = await http().post(API + path).set(ADMIN).type('form').send(body.hasOwnProperty('jobIds') ? { jobIds: failedId } : { reason: 'x' });
      expect([path, form.status]).toEqual([path, 415]);
      const text = await http().post(API + path).set(ADMIN).set('content-type', 'text/plain').send(JSON.stringify(body));
      expect([path, text.status]).toEqual([path, 415]);
      const none = await http().post(API + path).set(ADMIN);
      expect([path, none.status]).toEqual([path, 415]);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('serves the reads to an operator', async () => {
    const stats = await http().get(`${API}/stats`).set(ADMIN).expect(200);
    expect(stats.headers['cache-control']).toBe('private, no-store');
    expect(stats.body.queues.find((q: any) => q.queue === 'default')).toMatchObject({ failed: 1, paused: false });
    expect(stats.body.workers).toBe(1);
    const list = await http().get(`${API}/jobs`).query({ status: 'failed', limit: 10 }).set(ADMIN).expect(200);
    expect(list.body.meta).toEqual({ page: 1, limit: 10, total: 1 });
    expect(list.body.data[0]).toMatchObject({ jobId: failedId, status: 'failed', type: 'op-fail', priority: 0, workerId: null });
    expect(list.body.data[0].state).toBeUndefined();
    await http().get(`${API}/jobs`).query({ status: 'nope' }).set(ADMIN).expect(400);
    const job = await http().get(`${API}/jobs/${failedId}`).set(ADMIN).expect(200);
    expect(job.body.job.jobId).toBe(failedId);
    expect(job.body.attempts).toHaveLength(2);
    expect(job.body.attempts[1].error).toContain('run 2 broke');
    expect(job.body.logs.map((l: any) => l.message)).toEqual(['run 1 is about to fail', 'run 2 is about to fail']);
    expect(job.body).toHaveProperty('steps');
    expect(job.body).toHaveProperty('files');
    await http().get(`${API}/jobs/0190b2a4-0000-7000-8000-000000000000`).set(ADMIN).expect(404);
    const workers = await http().get(`${API}/workers`).set(ADMIN).expect(200);
    expect(workers.body.data).toEqual([expect.objectContaining({ pid: process.pid, queues: ['default'] })]);
    await http().get(`${API}/batches/anything`).set(ADMIN).expect(404);
    const schedules = await http().get(`${API}/schedules`).set(ADMIN).expect(200);
    expect(schedules.body.data.map((s: any) => s.name)).toEqual(['nightly']);
  });

  it('performs the actions for an operator, audited with the actor and reason', async () => {
    await http().post(`${API}/queues/held/pause`).set(ADMIN).send({ reason: 'deploy' }).expect(200, { queue: 'held', paused: true });
    expect((await operator.stats()).queues.find((q) => q.queue === 'held')?.paused).toBe(true);
    await http().post(`${API}/queues/held/resume`).set(ADMIN).send({}).expect(200, { queue: 'held', paused: false });
    await http().post(`${API}/queues/held/bogus`).set(ADMIN).send({}).expect(404);

    await http().post(`${API}/jobs/retry`).set(ADMIN).send({}).expect(400);
    const retried = await http().post(`${API}/jobs/retry`).set(ADMIN).send({ jobIds: [failedId], reason: 'flaky upstream' }).expect(200);
    expect(retried.body).toEqual({ count: 1 });
    await runner.waitFor(failedId, { timeoutMs: 20_000 });

    const stopped = await http().post(`${API}/jobs/${pendingId}/stop`).set(ADMIN).send({}).expect(200);
    expect(stopped.body).toMatchObject({ jobId: pendingId, status: 'stopped' });
    await http().post(`${API}/jobs/${pendingId}/stop`).set(ADMIN).send({}).expect(409);

    await http().post(`${API}/jobs/delete`).set(ADMIN).send({ status: 'pending' }).expect(400);
    const deleted = await http().post(`${API}/jobs/delete`).set(ADMIN).send({ jobIds: [pendingId] }).expect(200);
    expect(deleted.body).toEqual({ count: 1 });

    await runner.dispatch('op-echo', {}, { queue: 'held' });
    expect((await http().post(`${API}/queues/held/clear`).set(ADMIN).send({}).expect(200)).body).toEqual({ count: 1 });

    expect((await http().post(`${API}/schedules/nightly/disable`).set(ADMIN).send({}).expect(200)).body.enabled).toBe(false);
    expect((await http().post(`${API}/schedules/nightly/enable`).set(ADMIN).send({}).expect(200)).body.enabled).toBe(true);
    const triggered = await http().post(`${API}/schedules/nightly/trigger`).set(ADMIN).send({}).expect(200);
    expect((await runner.waitFor(triggered.body.jobId, { timeoutMs: 20_000 })).status).toBe(JobStatus.Completed);
    await http().post(`${API}/schedules/missing/enable`).set(ADMIN).send({}).expect(404);

    const audit = await http().get(`${API}/audit`).query({ limit: 20 }).set(ADMIN).expect(200);
    const actions = audit.body.data.map((e: any) => [e.action, e.actor]).reverse();
    expect(actions).toEqual([
      ['pauseQueue', 'alice'],
      ['resumeQueue', 'alice'],
      ['retry', 'alice'],
      ['stop', 'alice'],
      ['delete', 'alice'],
      ['clearQueue', 'alice'],
      ['schedule.disable', 'alice'],
      ['schedule.enable', 'alice'],
      ['schedule.trigger', 'alice'],
    ]);
    expect(audit.body.data.find((e: any) => e.action === 'retry')).toMatchObject({ reason: 'flaky upstream', count: 1 });
  });

  it('is not mounted unless operator.enabled', async () => {
    const other = await createTestApp(db, { migrate: false, listen: true, options: { worker: { enabled: false } } });
    try {
      await request(other.getHttpServer()).get('/managed-jobs/api/stats').set(ADMIN).expect(404);
    } finally {
      await other.close();
    }
  });
});
