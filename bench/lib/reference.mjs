/**
 * The database's own limit, as a reference line: `clients` connections, each a loop of
 * single-row INSERT autocommits for `ms`. A queue that needs one commit per transition of each
 * job cannot beat this figure divided by the commits it makes per job.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export async function measureCommitRate(pg, database, clients, ms) {
  const { Client } = require('pg');
  const conns = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database });
      await c.connect();
      return c;
    }),
  );
  await conns[0].query('CREATE TABLE ref_commits (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');
  let commits = 0;
  const end = Date.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (Date.now() < end) {
        await c.query('INSERT INTO ref_commits (payload) VALUES ($1)', ['{"i":1}']);
        commits++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(conns.map((c) => c.end()));
  return { clients, commitsPerSecond: commits / seconds, seconds };
}
