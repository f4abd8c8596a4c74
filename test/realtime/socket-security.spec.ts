/**
 * Socket attacks of the security review (issue 10): a user channel hears only the subscriber's own
 * owner pair (hole 4), rooms are private as soon as the app can authenticate sockets (W6), and the
 * same-origin check compares scheme and host and trusts forwarded headers only behind a trusted proxy.
 */
import { jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import type { Socket } from 'socket.io-client';
import { JobRunnerService, JobStatus, type JobOwner } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { GenerateReportJob, Probe } from '../fixtures/jobs.js';
import { connect, eventsOf, record, subscribe } from './socket-client.js';

const owner = (id: string, tenant: string | null): JobOwner => ({ getManagedJobOwnerId: () => id, getManagedJobTenantId: () => tenant });
const tokens: Record<string, JobOwner> = { acme: owner('u7', 'acme'), beta: owner('u7', 'beta'), solo: owner('u7', null) };
const period = { from: '2024-01-01', to: '2024-01-02' };

describe.each(dialects)('socket security on %s', (dialect) => {
  let db: TestDatabase;
  const apps: INestApplication[] = [];
  const sockets: Socket[] = [];
  const client = async (app: INestApplication, opts: Parameters<typeof connect>[1] = {}) => {
    const socket = await connect(app, opts);
    sockets.push(socket);
    return socket;
  };
  const open = async (options: Parameters<typeof createTestApp>[1] = {}) => {
    const app = await createTestApp(db, { providers: [Probe, GenerateReportJob], listen: true, ...options });
    apps.push(app);
    return app;
  };
  // `authenticate` alone, no `channelType`: rooms must be private.
  const authenticated = () =>
    open({ options: { broadcasting: { authenticate: (socket) => tokens[String(socket.handshake.auth?.token)] ?? null } } });

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const app of apps.splice(0)) await app.close();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("hole 4: (u7, beta) subscribed to jobs.u7 gets neither (u7, acme)'s snapshot nor its live events", async () => {
    const app = await authenticated();
    const runner = app.get(JobRunnerService);
    const waiting = {
      acme: await runner.dispatch(GenerateReportJob, period, { owner: tokens.acme, delayMs: 60_000 }),
      beta: await runner.dispatch(GenerateReportJob, period, { owner: tokens.beta, delayMs: 60_000 }),
      solo: await runner.dispatch(GenerateReportJob, period, { owner: tokens.solo, delayMs: 60_000 }),
    };
    const listeners = {} as Record<keyof typeof waiting, ReturnType<typeof record>>;
    for (const who of ['acme', 'beta', 'solo'] as const) {
      const socket = await client(app, { auth: { token: who } });
      listeners[who] = record(socket);
      expect(await subscribe(socket, 'jobs.u7')).toEqual({ ok: true });
    }
    for (const who of ['acme', 'beta', 'solo'] as const) {
      const snapshot = listeners[who].find((r) => r.event === 'job.snapshot')!.data;
      expect(snapshot.channel).toBe('jobs.u7');
      expect(snapshot.jobs.map((j: { jobId: string }) => j.jobId)).toEqual([waiting[who].jobId]);
    }

    const live = {
      acme: await runner.dispatch(GenerateReportJob, { ...period, rows: 3 }, { owner: tokens.acme }),
      beta: await runner.dispatch(GenerateReportJob, { ...period, rows: 3 }, { owner: tokens.beta }),
      solo: await runner.dispatch(GenerateReportJob, { ...period, rows: 3 }, { owner: tokens.solo }),
    };
    for (const who of ['acme', 'beta', 'solo'] as const) {
      await waitFor(() => eventsOf(listeners[who], live[who].jobId).some((r) => r.event === 'job.completed'));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const who of ['acme', 'beta', 'solo'] as const) {
      const heard = new Set(listeners[who].filter((r) => r.event !== 'job.snapshot').map((r) => r.data.jobId));
      expect([...heard]).toEqual([live[who].jobId]);
    }
  });

  it('W6: with authenticate set and no channelType, rooms are private (anonymous refused, no foreign channels)', async () => {
    const app = await authenticated();
    await expect(client(app)).rejects.toThrow(/Unauthenticated/);
    const socket = await client(app, { auth: { token: 'beta' } });
    expect(await subscribe(socket, 'jobs.u8')).toEqual({ ok: false, error: expect.stringMatching(/Forbidden/) });
    expect(await subscribe(socket, 'jobs.tenant.acme')).toEqual({ ok: false, error: expect.stringMatching(/Forbidden/) });
    expect(await subscribe(socket, 'jobs.tenant.beta')).toEqual({ ok: true });
  });

  it('W6: public rooms are announced with a warning at boot', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      await open();
      expect(warn.mock.calls.some(([message]) => /rooms on \/managed-jobs are public/.test(String(message)))).toBe(true);
      warn.mockClear();
      await authenticated();
      expect(warn.mock.calls.some(([message]) => /are public/.test(String(message)))).toBe(false);
    } finally {
      warn.mockRestore();
    }
  });

  it('same origin means the same scheme and host; X-Forwarded-* count only behind a trusted proxy', async () => {
    const app = await open();
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const host = new URL(base).host;
    await expect(client(app, { headers: { origin: `http://${host}` } })).resolves.toBeDefined();
    await expect(client(app, { headers: { origin: `https://${host}` } })).rejects.toThrow(/not allowed/);
    await expect(client(app, { headers: { origin: 'https://evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } })).rejects.toThrow(
      /not allowed/,
    );

    const proxied = await open({ configure: (nest) => (nest as any).set('trust proxy', 'loopback') });
    const headers = { origin: 'https://app.example', 'x-forwarded-host': 'app.example', 'x-forwarded-proto': 'https' };
    await expect(client(proxied, { headers })).resolves.toBeDefined();
    await expect(client(proxied, { headers: { ...headers, 'x-forwarded-proto': 'http' } })).rejects.toThrow(/not allowed/);
  });

  it('a job finished before the socket subscribed is not in the snapshot, a pending one of the same pair is', async () => {
    const app = await authenticated();
    const runner = app.get(JobRunnerService);
    const done = await runner.dispatch(GenerateReportJob, { ...period, rows: 1 }, { owner: tokens.solo });
    await waitFor(async () => (await runner.find(done.jobId))?.status === JobStatus.Completed);
    const pending = await runner.dispatch(GenerateReportJob, period, { owner: tokens.solo, delayMs: 60_000 });
    const socket = await client(app, { auth: { token: 'solo' } });
    const received = record(socket);
    expect(await subscribe(socket, 'jobs.u7')).toEqual({ ok: true });
    const snapshot = received.find((r) => r.event === 'job.snapshot')!.data;
    expect(snapshot.jobs.map((j: { jobId: string }) => j.jobId)).toContain(pending.jobId);
    expect(snapshot.jobs.map((j: { jobId: string }) => j.jobId)).not.toContain(done.jobId);
  });
});
