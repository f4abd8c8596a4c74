import type { INestApplication } from '@nestjs/common';
import type { Socket } from 'socket.io-client';
import { JobRunnerService, JobStatus } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { allJobs, EventRecorder, GenerateReportJob, LongJob } from '../fixtures/jobs.js';
import { ExplodeJob } from './realtime-jobs.js';
import { connect, eventsOf, record, subscribe } from './socket-client.js';

const period = { from: '2024-01-01', to: '2024-12-31' };

describe.each(dialects)('socket.io gateway (public channels) on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  const sockets: Socket[] = [];
  const client = async () => {
    const socket = await connect(app);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: [...allJobs.filter((p) => p !== EventRecorder), ExplodeJob], listen: true });
    runner = app.get(JobRunnerService);
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it("pushes a job's events to its owner's room, in order, with camelCase payloads", async () => {
    const socket = await client();
    const received = record(socket);
    expect(await subscribe(socket, 'jobs.owner-1')).toEqual({ ok: true });

    const job = await runner.dispatch(GenerateReportJob, { ...period, rows: 4 }, { ownerId: 'owner-1', tenantId: 'acme' });
    await waitFor(() => eventsOf(received, job.jobId).some((r) => r.event === 'job.completed'));

    const events = eventsOf(received, job.jobId);
    const names = events.map((r) => r.event);
    expect(names[0]).toBe('job.started');
    expect(names[names.length - 1]).toBe('job.completed');
    expect(names.slice(1, -1).every((n) => n === 'job.progress')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate (e.g. relayed back) would show by now
    expect(eventsOf(received, job.jobId).map((r) => r.event)).toEqual(names);
    expect(names.filter((n) => n === 'job.started')).toHaveLength(1);
    const progress = events.map((r) => r.data.progress);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress); // never goes back
    const times = events.map((r) => Date.parse(r.data.updatedAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    expect(events[0].data).toMatchObject({ jobId: job.jobId, type: 'generate-report', status: 'running', ownerUserId: 'owner-1', ownerTenantId: 'acme' });
    const completed = events[events.length - 1].data;
    expect(completed).toMatchObject({ jobId: job.jobId, status: 'completed', progress: 100, failedReason: null, result: { rows: 4, from: period.from } });
    expect(completed.progressMessage).toBe('Row 4 of 4');
    // Never the queue's internals, nor the payload.
    for (const { data } of events) {
      for (const key of ['fence', 'leaseOwner', 'leaseExpiresAt', 'lease_owner', 'payload', 'state']) expect(data).not.toHaveProperty(key);
    }
  });

  it('pushes tenant jobs to the tenant room, and user 5 and tenant 5 never share a room', async () => {
    const user5 = await client();
    const tenant5 = await client();
    const fromUser5 = record(user5);
    const fromTenant5 = record(tenant5);
    expect(await subscribe(user5, 'jobs.5')).toEqual({ ok: true });
    expect(await subscribe(tenant5, 'jobs.tenant.5')).toEqual({ ok: true });

    const ofUser5 = await runner.dispatch(GenerateReportJob, { ...period, rows: 1 }, { ownerId: 5, tenantId: 'other' });
    const ofTenant5 = await runner.dispatch(GenerateReportJob, { ...period, rows: 1 }, { ownerId: 'someone', tenantId: 5 });
    await waitFor(() => eventsOf(fromUser5, ofUser5.jobId).some((r) => r.event === 'job.completed'));
    await waitFor(() => eventsOf(fromTenant5, ofTenant5.jobId).some((r) => r.event === 'job.completed'));
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(eventsOf(fromUser5, ofTenant5.jobId)).toEqual([]);
    expect(eventsOf(fromTenant5, ofUser5.jobId)).toEqual([]);
    expect(eventsOf(fromTenant5, ofTenant5.jobId).map((r) => r.data.ownerTenantId)).toContain('5');
  });

  it('sends the active jobs of a room first, then live events, and announces stop and failure', async () => {
    const running = await runner.dispatch(LongJob, { maxMs: 20_000 }, { ownerId: 'snap' });
    const pending = await runner.dispatch(GenerateReportJob, { ...period, rows: 1 }, { ownerId: 'snap', delayMs: 60_000 });
    await waitFor(async () => (await runner.find(running.jobId))?.progressPercentage! > 0);

    const socket = await client();
    const received = record(socket);
    expect(await subscribe(socket, 'jobs.snap')).toEqual({ ok: true });
    expect(received[0].event).toBe('job.snapshot');
    const snapshot = received[0].data;
    expect(snapshot.channel).toBe('jobs.snap');
    expect(snapshot.truncated).toBe(false);
    const byId = new Map(snapshot.jobs.map((j: any) => [j.jobId, j]));
    expect(byId.get(pending.jobId)).toMatchObject({ status: 'pending', progress: 0 });
    expect(byId.get(running.jobId)).toMatchObject({ status: 'running' });
    expect((byId.get(running.jobId) as any).progress).toBeGreaterThan(0);

    // Live events follow, and none of them is older than the snapshot.
    await waitFor(() => eventsOf(received, running.jobId).some((r) => r.event === 'job.progress'));
    const seen = Date.parse((byId.get(running.jobId) as any).updatedAt);
    expect(eventsOf(received, running.jobId).every((r) => r.event === 'job.snapshot' || Date.parse(r.data.updatedAt) >= seen)).toBe(true);

    await runner.stop(running.jobId);
    await waitFor(() => eventsOf(received, running.jobId).some((r) => r.event === 'job.stopped'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const afterStop = eventsOf(received, running.jobId);
    expect(afterStop[afterStop.length - 1]).toMatchObject({ event: 'job.stopped', data: { status: JobStatus.Stopped } });

    const failing = await runner.dispatch(ExplodeJob, {}, { ownerId: 'snap' });
    await waitFor(() => eventsOf(received, failing.jobId).some((r) => r.event === 'job.failed'));
    const failed = eventsOf(received, failing.jobId).find((r) => r.event === 'job.failed')!;
    expect(failed.data).toMatchObject({ status: 'failed', failedReason: 'kaboom', progress: 40 });
    await runner.stop(pending.jobId);
  });

  it('acknowledges malformed and oversized messages with an error and changes nothing', async () => {
    const socket = await client();
    const received = record(socket);
    const send = (...args: unknown[]) => socket.timeout(5000).emitWithAck('subscribe', ...args);
    for (const bad of [
      [],
      ['jobs.1'],
      [null],
      [[{ channel: 'jobs.1' }]],
      [{ channel: 42 }],
      [{ nope: 'jobs.1' }],
      [{ channel: 'jobs.' + 'x'.repeat(100_000) }],
      [{ channel: 'other.1' }],
      [{ channel: 'jobs.' }],
      [{ channel: 'jobs.tenant.' }],
      [{ channel: 'jobs.a b' }],
      [{ channel: 'jobs.1' }, 'extra'],
    ]) {
      const ack = await send(...bad);
      expect(ack).toEqual({ ok: false, error: expect.any(String) });
    }
    expect(received).toEqual([]); // no snapshot: joined nothing
    const job = await runner.dispatch(GenerateReportJob, { ...period, rows: 1 }, { ownerId: '1' });
    await waitFor(async () => (await runner.find(job.jobId))?.status === JobStatus.Completed);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual([]);
    expect(socket.connected).toBe(true);
  });

  it('limits a socket that floods subscribe', async () => {
    const socket = await client();
    const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => subscribe(socket, `jobs.flood-${i % 3}`)));
    const refused = acks.filter((a) => !a.ok);
    expect(acks.filter((a) => a.ok).length).toBeLessThanOrEqual(12);
    expect(refused.length).toBeGreaterThanOrEqual(28);
    expect(refused[0].error).toMatch(/Too many/);
    expect(socket.connected).toBe(true);
  });

  it('unsubscribe stops the events of that room', async () => {
    const socket = await client();
    const received = record(socket);
    await subscribe(socket, 'jobs.leaver');
    expect(await socket.timeout(5000).emitWithAck('unsubscribe', { channel: 'jobs.leaver' })).toEqual({ ok: true });
    const job = await runner.dispatch(GenerateReportJob, { ...period, rows: 1 }, { ownerId: 'leaver' });
    await waitFor(async () => (await runner.find(job.jobId))?.status === JobStatus.Completed);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(eventsOf(received, job.jobId)).toEqual([]);
  });
});
