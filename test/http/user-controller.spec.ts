import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseFilters, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { JobRunnerService, JobStatus, ManagedJobsExceptionFilter, type JobOwnerLike } from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { GenerateReportJob, Probe } from '../fixtures/jobs.js';
import { connect, eventsOf, record, subscribe } from '../realtime/socket-client.js';

/** The owner every route of this app acts for: a plain `{ id, tenantId }`, as `req.user` usually is. */
const plainOwner = { id: 'user-p', tenantId: 'tenant-p' };

/** A user's own controller calling `JobRunnerService`, with the library's filter for its typed errors. */
@Controller('my-reports')
@UseFilters(ManagedJobsExceptionFilter)
class MyReportsController {
  constructor(private readonly runner: JobRunnerService) {}

  @Post()
  @HttpCode(202)
  async create(@Body() body: { from: string; to: string }) {
    const job = await this.runner.dispatch(GenerateReportJob, body, { owner: plainOwner, triggeredBy: plainOwner });
    return { jobId: job.jobId, ownerUserId: job.ownerUserId, ownerTenantId: job.ownerTenantId, triggeredByUserId: job.triggeredByUserId };
  }

  @Get(':jobId')
  async show(@Param('jobId') jobId: string) {
    const job = await this.runner.find<GenerateReportJob>(jobId, { owner: plainOwner });
    if (!job) return this.runner.files(jobId, { owner: plainOwner }); // throws JobNotFoundError → 404
    return { status: job.status, rows: job.result?.rows ?? null };
  }

  @Delete(':jobId')
  stop(@Param('jobId') jobId: string) {
    return this.runner.stop(jobId, { owner: plainOwner });
  }

  @Post('by-name/:type')
  @HttpCode(202)
  async byName(@Param('type') type: string, @Body() body: unknown) {
    return { jobId: (await this.runner.dispatch(type, body, { owner: plainOwner })).jobId };
  }
}

describe.each(dialects)("the library's exception filter and owner shapes in a user's own controller on %s", (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, {
      providers: [Probe, GenerateReportJob],
      imports: [{ module: class UserModule {}, controllers: [MyReportsController] }],
      listen: true,
      options: {
        broadcasting: {
          channelType: 'private',
          // The socket owner in the plain shape too.
          authenticate: (socket) => (socket.handshake.auth?.token === 'p' ? plainOwner : null),
        },
      },
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await app?.close();
    await db?.drop();
  });

  it('maps the typed errors to 400, 404 and 409 instead of 500', async () => {
    const server = app.getHttpServer();
    const bad = await request(server).post('/my-reports').send({ from: 'yesterday', to: '2024-01-02' }).expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, message: 'The payload is invalid.', violations: [expect.objectContaining({ property: 'from' })] });
    await request(server).post('/my-reports/by-name/no-such-job').send({}).expect(400);
    await request(server).get('/my-reports/0190c8e4-0000-7000-8000-000000000000').expect(404, { statusCode: 404, error: 'Not Found', message: 'Job not found.' });

    const created = await request(server).post('/my-reports').send({ from: '2024-01-01', to: '2024-01-02' }).expect(202);
    const runner = app.get(JobRunnerService);
    await waitFor(async () => (await runner.find(created.body.jobId))?.status === JobStatus.Completed);
    const conflict = await request(server).delete(`/my-reports/${created.body.jobId}`).expect(409);
    expect(conflict.body).toMatchObject({ statusCode: 409, error: 'Conflict', status: 'completed' });
    await request(server).get(`/my-reports/${created.body.jobId}`).expect(200, { status: 'completed', rows: 5 }); // the fixture's default row count
  });

  it('takes { id, tenantId } as the owner in dispatch, scopes and the socket authenticate', async () => {
    const socket = await connect(app, { auth: { token: 'p' } });
    sockets.push(socket);
    const received = record(socket);
    expect(await subscribe(socket, 'jobs.user-p')).toEqual({ ok: true });
    expect(await subscribe(socket, 'jobs.tenant.tenant-p')).toEqual({ ok: true });
    expect((await subscribe(socket, 'jobs.user-a')).ok).toBe(false);

    const created = await request(app.getHttpServer()).post('/my-reports').send({ from: '2024-01-01', to: '2024-01-02' }).expect(202);
    expect(created.body).toMatchObject({ ownerUserId: 'user-p', ownerTenantId: 'tenant-p', triggeredByUserId: 'user-p' });
    await waitFor(() => eventsOf(received, created.body.jobId).some((r) => r.event === 'job.completed'));
    const runner = app.get(JobRunnerService);
    const other: JobOwnerLike = { id: 'someone-else' };
    expect(await runner.find(created.body.jobId, { owner: other })).toBeNull();
    expect((await runner.list({ owner: plainOwner })).data.map((j) => j.jobId)).toContain(created.body.jobId);
  });
});
