/**
 * The lease keeper's thread, as source text run with `new Worker(source, { eval: true })`.
 *
 * Why a string: the same code must start from `dist/` (compiled JS), from the reliability build,
 * and under jest, which runs lib/*.ts through ts-jest and cannot hand a worker thread a .ts file.
 * A separate .js file would not be copied by `tsc`, and a function's `toString()` breaks under
 * coverage instrumentation. Eval'd code is CommonJS: it `require`s only `node:worker_threads`
 * and the database driver, by the absolute path the main thread resolved (workerData.driverPath),
 * so the thread uses the application's copy of `pg` / `better-sqlite3` / `mysql2`.
 *
 * Protocol (lease-keeper.ts is the other side). In: `{ hold: [ids, fences], drop: [ids, fences] }`
 * when runs start (with those that ended since the last message), `{ beat: true }` after each of
 * the event loop's own renewals (the thread renews only while beats stop coming: `staleMs`),
 * `{ close: true }` at shutdown (the thread closes its connection and exits). A run no longer owned leaves `held` by itself.
 * Out: `{ lost: [ids, fences] }`, runs whose renewal found the job no longer
 * theirs (stopped, reaped, reassigned); `{ warn: message }` when a renewal failed.
 */
export const LEASE_KEEPER_THREAD = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { driver, driverPath, connection, statement, marker, intervalMs, staleMs, timeoutMs } = workerData;
/** When the event loop last renewed (its beat), and when this thread last did. */
let lastBeat = Date.now();
let lastRenewal = 0;
// Loaded now: a driver that cannot load here fails the thread at once (the keeper then renews on the loop).
const Driver = require(driverPath);

/** jobId -> fence of the runs this process holds. */
const held = new Map();
/** Which statement values are the marker run's job id / fence (arrays of one on PostgreSQL). */
const slots = statement.values.map((v) => {
  const scalar = Array.isArray(v) && v.length === 1 ? v[0] : v;
  return scalar === marker.jobId ? 'id' : scalar === marker.fence ? 'fence' : null;
});
const bind = (id, fence) => statement.values.map((v, i) => (slots[i] === 'id' ? id : slots[i] === 'fence' ? fence : v));

let db = null;
/** SQLite: renews the given runs in one immediate transaction on db. */
let renewAll = null;
let renewing = null;
let closing = false;

async function connectPg() {
  const client = new Driver.Client({ connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, ...connection });
  client.on('error', () => {
    if (db === client) db = null;
  });
  client.on('end', () => {
    if (db === client) db = null;
  });
  try {
    await client.connect();
  } catch (error) {
    client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

async function connectMysql() {
  const conn = Driver.createConnection({ connectTimeout: timeoutMs, ...connection }).promise();
  conn.connection.on('error', () => {
    if (db === conn) db = null;
  });
  return conn;
}

function openSqlite() {
  const conn = new Driver(connection.file, { timeout: timeoutMs });
  try {
    conn.pragma('journal_mode = WAL');
  } catch {}
  const renewOne = conn.prepare(statement.text);
  // This thread may wait on the write lock (busy timeout); the event loop does not.
  renewAll = conn.transaction((runs) => runs.filter(([id, fence]) => renewOne.run(...bind(id, fence)).changes > 0));
  return conn;
}

/** Renews every held run in one statement (PostgreSQL) or one transaction (SQLite); returns the owned ones as "id:fence". */
async function renew(runs) {
  if (driver === 'pg') {
    if (!db) db = await connectPg();
    const result = await db.query({ text: statement.text, values: bind(runs.map((r) => r[0]), runs.map((r) => r[1])) });
    return new Set(result.rows.map((r) => r.job_id + ':' + Number(r.fence)));
  }
  if (driver === 'mysql2') {
    if (!db) db = await connectMysql();
    const owned = new Set();
    // One statement per run (no arrays in MySQL); rows matched count (FOUND_ROWS), so a renewal
    // that changes nothing still says the run is ours.
    for (const [id, fence] of runs) {
      const [result] = await db.execute({ sql: statement.text, values: bind(id, fence), timeout: timeoutMs });
      if (result.affectedRows > 0) owned.add(id + ':' + fence);
    }
    return owned;
  }
  if (!db) db = openSqlite();
  return new Set(renewAll.immediate(runs).map(([id, fence]) => id + ':' + fence));
}

async function tick() {
  const now = Date.now();
  if (renewing || closing || !held.size || now - lastBeat < staleMs || now - lastRenewal < intervalMs * 0.9) return;
  lastRenewal = now;
  const runs = [...held];
  renewing = renew(runs).then(
    (owned) => {
      const lost = runs.filter(([id, fence]) => !owned.has(id + ':' + fence));
      if (!lost.length) return;
      for (const [id, fence] of lost) if (held.get(id) === fence) held.delete(id);
      parentPort.postMessage({ lost: [lost.map((r) => r[0]), lost.map((r) => r[1])] });
    },
    (error) => {
      // A new connection next time (the database may have restarted).
      disconnect();
      parentPort.postMessage({ warn: String((error && error.message) || error) });
    },
  );
  await renewing;
  renewing = null;
}

function disconnect() {
  const old = db;
  db = null;
  if (!old) return Promise.resolve();
  return driver === 'pg' || driver === 'mysql2' ? old.end().catch(() => undefined) : Promise.resolve(old.close());
}

const timer = setInterval(tick, Math.max(10, Math.round(intervalMs / 2)));

parentPort.on('message', async (message) => {
  if (message.beat) lastBeat = Date.now();
  if (message.drop) {
    const [ids, fences] = message.drop;
    for (let i = 0; i < ids.length; i++) if (held.get(ids[i]) === fences[i]) held.delete(ids[i]);
  }
  if (message.hold) {
    const [ids, fences] = message.hold;
    for (let i = 0; i < ids.length; i++) held.set(ids[i], fences[i]);
  }
  if (message.close) {
    closing = true;
    clearInterval(timer);
    held.clear();
    await renewing;
    await disconnect().catch(() => undefined);
    parentPort.close();
  }
});
`;
