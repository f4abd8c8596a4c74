import type { INestApplication } from '@nestjs/common';
import type { Socket } from 'socket.io-client';
import { JobRunnerService, JobStatus, type JobOwner } from '../../lib/index.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { GenerateReportJob, Probe, userA, userB } from '../fixtures/jobs.js';
import { connect, eventsOf, record, subscribe } from './socket-client.js';

// Channel checks do not depend on the database; SQLite keeps this suite quick.
describe('socket.io gateway with private channels', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  const sockets: Socket[] = [];
  const tokens: Record<string, JobOwner> = { 'token-a': userA, 'token-b': userB };
  const client = async (opts: Parameters<typeof connect>[1] = {}) => {
    const socket = await connect(app, opts);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    app = await createTestApp(db, {
      providers: [Probe, GenerateReportJob],
      listen: true,
      options: {
        broadcasting: {
          channelType: 'private',
          // Sync or async: an async resolver, as one that looks a session up would be.
          authenticate: async (socket) => {
            const token = socket.handshake.auth?.token;
            if (token === 'explode') throw new Error('session store down');
            return typeof token === 'string' ? (tokens[token] ?? null) : null;
          },
          allowedOrigins: ['https://app.example'],
        },
      },
    });
    runner = app.get(JobRunnerService);
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('refuses a handshake with no credential, a bad one, or a throwing authenticate', async () => {
    await expect(client()).rejects.toThrow(/Unauthenticated/);
    await expect(client({ auth: { token: 'forged' } })).rejects.toThrow(/Unauthenticated/);
    await expect(client({ auth: { token: 'explode' } })).rejects.toThrow(/Unauthenticated/);
    await expect(client({ auth: { token: 'token-a' } })).resolves.toBeDefined();
  });

  it("lets user A into A's own rooms only and never sends A any of B's events", async () => {
    const socket = await client({ auth: { token: 'token-a' } });
    const received = record(socket);
    expect(await subscribe(socket, 'jobs.user-a')).toEqual({ ok: true });
    expect(await subscribe(socket, 'jobs.tenant.tenant-1')).toEqual({ ok: true });
    expect(await subscribe(socket, 'jobs.user-b')).toEqual({ ok: false, error: expect.stringMatching(/Forbidden/) });
    expect(await subscribe(socket, 'jobs.tenant.tenant-2')).toEqual({ ok: false, error: expect.stringMatching(/Forbidden/) });
    // A's user id in the tenant form, and A's tenant id in the user form, are other rooms.
    expect((await subscribe(socket, 'jobs.tenant.user-a')).ok).toBe(false);
    expect((await subscribe(socket, 'jobs.tenant-1')).ok).toBe(false);

    const ofA = await runner.dispatch(GenerateReportJob, { from: '2024-01-01', to: '2024-01-02', rows: 2 }, { owner: userA });
    const ofB = await runner.dispatch(GenerateReportJob, { from: '2024-01-01', to: '2024-01-02', rows: 2 }, { owner: userB });
    await waitFor(() => eventsOf(received, ofA.jobId).some((r) => r.event === 'job.completed'));
    await waitFor(async () => (await runner.find(ofB.jobId))?.status === JobStatus.Completed);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(eventsOf(received, ofB.jobId)).toEqual([]);
    expect(received.some((r) => JSON.stringify(r.data).includes('user-b'))).toBe(false);
    // A is in its user room and its tenant room: each event arrives once, not twice.
    expect(eventsOf(received, ofA.jobId).filter((r) => r.event === 'job.completed')).toHaveLength(1);
  });

  it('refuses a browser origin that is not allowed, and accepts an allowed one', async () => {
    await expect(client({ auth: { token: 'token-a' }, headers: { origin: 'https://evil.example' } })).rejects.toThrow(/not allowed/);
    await expect(client({ auth: { token: 'token-a' }, headers: { origin: 'https://app.example' } })).resolves.toBeDefined();
  });

  it('sends CORS headers to allowed origins on the polling transport', async () => {
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const ok = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://app.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
