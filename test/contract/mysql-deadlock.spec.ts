import mysql from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { MysqlConnection } from '../../lib/store/mysql/mysql.connection.js';
import { storeFixtures } from './store-fixture.js';

/**
 * MySQL/MariaDB: InnoDB may choose a single statement, run outside any transaction, as a deadlock's
 * victim and roll it back. The store runs it again (as it runs a transaction again), instead of
 * handing "Deadlock found when trying to get lock" to the caller: a completion that failed so was
 * once recorded on CI as the job's failure.
 */
describe('single statements on MariaDB', () => {
  const fixture = storeFixtures.find((f) => f.name === 'mariadb')!;
  let other: mysql.Connection;
  let db: MysqlConnection;

  beforeAll(async () => {
    await fixture.setUp();
    const { dataSource } = await fixture.openStore();
    db = new MysqlConnection(dataSource);
    const o = dataSource.options as any;
    other = await mysql.createConnection({ host: o.host, port: o.port, user: o.username, password: o.password, database: o.database });
    await other.query(`CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int NOT NULL) ENGINE=InnoDB`);
    await other.query(`INSERT INTO deadlock_probe (id, n) VALUES ${Array.from({ length: 100 }, (_, i) => `(${i + 1}, 0)`).join(', ')}`);
  });

  afterAll(async () => {
    await other?.query(`DROP TABLE IF EXISTS deadlock_probe`).catch(() => undefined);
    await other?.end();
    await fixture.closeStores();
    await fixture.tearDown();
  });

  it("runs a statement again when InnoDB rolled it back as a deadlock's victim", async () => {
    // The other transaction holds row 2 and has changed many rows (so InnoDB picks the statement as the victim).
    await other.beginTransaction();
    await other.query(`UPDATE deadlock_probe SET n = n + 1 WHERE id >= 2`);
    // The statement locks row 1, then waits for row 2.
    const statement = db.run({ text: `UPDATE deadlock_probe SET n = n + 10 WHERE id IN (1, 2)`, values: [] });
    await sleep(300);
    // The other transaction now wants row 1: a cycle; the statement is rolled back, then runs again once the other commits.
    const closing = other.query(`UPDATE deadlock_probe SET n = n + 1 WHERE id = 1`).then(() => other.commit());
    await expect(statement).resolves.toBe(2);
    await closing;
    const [rows] = await other.query(`SELECT id, n FROM deadlock_probe WHERE id IN (1, 2) ORDER BY id`);
    expect((rows as Array<{ n: number }>).map((r) => r.n)).toEqual([11, 11]);
  });
});
