import mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { storeFixtures } from './store-fixture.js';
import { waitFor } from '../support/databases.js';

/**
 * MySQL/MariaDB's event log (lib/store/mysql/event-log.ts): ids are given at insert and seen at
 * commit, so a reader may see a later id before an earlier one that commits late. Neither may be
 * lost, and an id that never commits (a rollback) must not hold the events after it back for long.
 */
describe('job events through the MariaDB event log', () => {
  const fixture = storeFixtures.find((f) => f.name === 'mariadb')!;
  let a: mysql.Connection;
  let b: mysql.Connection;

  beforeAll(async () => {
    await fixture.setUp();
    const { dataSource } = await fixture.openStore();
    const o = dataSource.options as any;
    const connect = () => mysql.createConnection({ host: o.host, port: o.port, user: o.username, password: o.password, database: o.database });
    [a, b] = await Promise.all([connect(), connect()]);
  });

  afterAll(async () => {
    await a?.end();
    await b?.end();
    await fixture.closeStores();
    await fixture.tearDown();
  });

  const insert = (c: mysql.Connection, payload: string) => c.query(`INSERT INTO managed_job_events (payload, created_at) VALUES (?, UTC_TIMESTAMP(3))`, [payload]);

  it('delivers an event whose insert committed after a later id was read, and gets past a rolled-back id', async () => {
    const { store: gateway } = await fixture.openStore();
    const received: string[] = [];
    await gateway.listenEvents((payload) => received.push(payload));

    await a.beginTransaction();
    await insert(a, 'late'); // takes the lower id, not visible yet
    await insert(b, 'early'); // a higher id, visible at once
    await waitFor(() => received.includes('early'));
    await sleep(150); // the reader has read past the missing id a few times
    await a.commit();
    await waitFor(() => received.includes('late'), { timeoutMs: 3000 });
    expect(received).toEqual(['early', 'late']);

    await a.beginTransaction();
    await insert(a, 'never');
    await insert(b, 'after rollback');
    await a.rollback();
    await waitFor(() => received.includes('after rollback'));
    await sleep(1500); // longer than the reader waits for a missing id
    await insert(b, 'next');
    await waitFor(() => received.includes('next'), { timeoutMs: 3000 });
    expect(received).toEqual(['early', 'late', 'after rollback', 'next']);
  });

  it('carries any text through the batch insert unchanged, in order', async () => {
    const { store: gateway } = await fixture.openStore();
    const { store: relay } = await fixture.openStore();
    const received: string[] = [];
    await gateway.listenEvents((payload) => received.push(payload));
    const payloads = ['{"o":"w","e":"job.progress","j":{"m":"quote \\" backslash \\\\ end"}}', 'line\nbreak\ttab', 'emoji 🚀 and é', '$[0] JSON path-ish', 'x'.repeat(7999)];
    await relay.publishEvents(payloads);
    await relay.publishEvents([]);
    await waitFor(() => received.length === payloads.length, { timeoutMs: 3000 });
    expect(received).toEqual(payloads);
  });
});
