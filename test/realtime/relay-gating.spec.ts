import { Injectable, type INestApplication } from '@nestjs/common';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { JobRunnerService, JobStatus, ManagedJob, type ManagedJobHandler } from '../../lib/index.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';

@Injectable()
@ManagedJob({ name: 'relay-probe' })
class RelayProbeJob implements ManagedJobHandler {
  async handle() {
    return 'ok';
  }
}

/**
 * Workers relay their events to other processes' gateways through NOTIFY, but only while such a
 * gateway listens: without one, a busy worker would encode and send events nobody receives.
 */
describe('event relay between processes (PostgreSQL)', () => {
  let db: TestDatabase;
  let worker: INestApplication;
  let web: INestApplication | undefined;
  let observer: pg.Client;
  const notified: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    worker = await createTestApp(db, { providers: [RelayProbeJob] });
    // A plain LISTEN that does not announce itself as a gateway: it only watches what is sent.
    const o = db.typeorm as any;
    observer = new pg.Client({ host: o.host, port: o.port, user: o.username, password: o.password, database: o.database });
    await observer.connect();
    observer.on('notification', (msg) => notified.push(msg.payload ?? ''));
    await observer.query('LISTEN managed_jobs_events');
  }, 60_000);

  afterAll(async () => {
    await observer?.end();
    await web?.close();
    await worker?.close();
    await db?.drop();
  });

  const runOne = async () => {
    const job = await worker.get(JobRunnerService).dispatch(RelayProbeJob, {});
    await waitFor(async () => (await worker.get(JobRunnerService).find(job.jobId))?.status === JobStatus.Completed);
    return job.jobId;
  };

  it('sends nothing while no gateway of another process listens, and relays once one does', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // the relay's first checks are done
    const quiet = await runOne();
    await new Promise((r) => setTimeout(r, 300));
    expect(notified.filter((n) => n.includes(quiet))).toEqual([]);

    // A web process with the gateway (its worker off) starts listening.
    web = await createTestApp(db, { providers: [RelayProbeJob], listen: true, migrate: false, options: { worker: { enabled: false } } });
    let heard: string | undefined;
    await waitFor(
      async () => {
        const id = await runOne();
        if (notified.some((n) => n.includes(id))) heard = id;
        return heard !== undefined;
      },
      { timeoutMs: 5000 },
    );
    // The job that was first heard may have started before the relay noticed; the next one is whole.
    const next = await runOne();
    await waitFor(() => notified.filter((n) => n.includes(next)).length >= 2);
    expect(notified.filter((n) => n.includes(next)).map((n) => JSON.parse(n).e)).toEqual(['job.started', 'job.completed']);
  }, 30_000);
});

/**
 * The same gating on MariaDB, where relays append to `managed_job_events` and gateways read it;
 * the reading gateway also prunes events older than a minute as it goes.
 */
describe('event relay between processes (MariaDB)', () => {
  let db: TestDatabase;
  let worker: INestApplication;
  let web: INestApplication | undefined;
  let observer: mysql.Connection;
  const sent = async (jobId: string) =>
    ((await observer.query('SELECT payload FROM managed_job_events ORDER BY id'))[0] as Array<{ payload: string }>).map((r) => r.payload).filter((p) => p.includes(jobId));

  beforeAll(async () => {
    db = await createTestDatabase('mariadb');
    worker = await createTestApp(db, { providers: [RelayProbeJob] });
    const o = db.typeorm as any;
    observer = await mysql.createConnection({ host: o.host, port: o.port, user: o.username, password: o.password, database: o.database });
  }, 60_000);

  afterAll(async () => {
    await observer?.end();
    await web?.close();
    await worker?.close();
    await db?.drop();
  });

  const runOne = async () => {
    const job = await worker.get(JobRunnerService).dispatch(RelayProbeJob, {});
    await waitFor(async () => (await worker.get(JobRunnerService).find(job.jobId))?.status === JobStatus.Completed);
    return job.jobId;
  };

  it('writes no event while no gateway of another process reads, relays once one does, and prunes old events', async () => {
    await new Promise((r) => setTimeout(r, 1500));
    const quiet = await runOne();
    await new Promise((r) => setTimeout(r, 300));
    expect(await sent(quiet)).toEqual([]);

    await observer.query(`INSERT INTO managed_job_events (payload, created_at) VALUES ('stale', UTC_TIMESTAMP(3) - INTERVAL 2 MINUTE)`);
    web = await createTestApp(db, { providers: [RelayProbeJob], listen: true, migrate: false, options: { worker: { enabled: false } } });
    await waitFor(async () => (await sent(await runOne())).length > 0, { timeoutMs: 5000 });
    const next = await runOne();
    await waitFor(async () => (await sent(next)).length >= 2);
    expect((await sent(next)).map((n) => JSON.parse(n).e)).toEqual(['job.started', 'job.completed']);
    // The gateway's reader pruned the two-minute-old event (within a second or two of starting).
    await waitFor(async () => (await sent('stale')).length === 0, { timeoutMs: 5000 });

    // Once the gateway is gone, relays stop writing (its reader row is deleted at close).
    await web.close();
    web = undefined;
    await new Promise((r) => setTimeout(r, 1500));
    const after = await runOne();
    await new Promise((r) => setTimeout(r, 300));
    expect(await sent(after)).toEqual([]);
  }, 30_000);
});
