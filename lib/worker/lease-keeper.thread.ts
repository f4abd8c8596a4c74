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
 * Protocol (lease-keeper.ts is the other side). Shared memory (`workerData.shared`, a
 * BigInt64Array): `[SHARED_LAST_BEAT]` when the event loop last renewed (epoch ms),
 * `[SHARED_HELD]` how many runs the process holds. The thread renews (one statement that renews
 * every run of the worker, by owner) only while runs are held and the loop has not renewed for
 * `staleMs`. In: `{ close: true }` at shutdown (the thread closes its connection and exits).
 * Out: `{ warn: message }` when a renewal failed.
 *
 * SQLite (`workerData.checkpointMs` > 0): the thread also checkpoints the write-ahead log, PASSIVE
 * (it never waits for a lock nor holds up a writer), every `checkpointMs`. Out: `{ checkpointing:
 * true }` once its connection is open (the loop's connection then stops checkpointing at its
 * commits), `{ checkpointing: false, error }` when a checkpoint failed (it stops: the loop's
 * connection checkpoints again).
 */
export const SHARED_LAST_BEAT = 0;
export const SHARED_HELD = 1;

export const LEASE_KEEPER_THREAD = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { driver, driverPath, connection, setup, statement, shared, intervalMs, staleMs, timeoutMs, checkpointMs } = workerData;
const LAST_BEAT = ${SHARED_LAST_BEAT};
const HELD = ${SHARED_HELD};
/** When this thread last renewed. */
let lastRenewal = 0;
// Loaded now: a driver that cannot load here fails the thread at once (the keeper then renews on the loop).
const Driver = require(driverPath);

let db = null;
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
    for (const sql of setup) await client.query(sql);
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
  try {
    for (const sql of setup) await conn.query({ sql, timeout: timeoutMs });
  } catch (error) {
    conn.end().catch(() => undefined);
    throw error;
  }
  return conn;
}

function openSqlite() {
  // This thread may wait on the write lock (busy timeout); the event loop does not.
  const conn = new Driver(connection.file, { timeout: timeoutMs });
  try {
    conn.pragma('journal_mode = WAL');
  } catch {}
  for (const sql of setup) conn.exec(sql);
  return conn;
}

/** Renews every run the worker owns, in one statement. */
async function renew() {
  if (driver === 'pg') {
    if (!db) db = await connectPg();
    await db.query({ text: statement.text, values: statement.values });
  } else if (driver === 'mysql2') {
    if (!db) db = await connectMysql();
    await db.execute({ sql: statement.text, values: statement.values, timeout: timeoutMs });
  } else {
    if (!db) db = openSqlite();
    db.prepare(statement.text).run(...statement.values);
  }
}

async function tick() {
  const now = Date.now();
  if (renewing || closing || Atomics.load(shared, HELD) === 0n) return;
  if (now - Number(Atomics.load(shared, LAST_BEAT)) < staleMs || now - lastRenewal < intervalMs * 0.9) return;
  lastRenewal = now;
  renewing = renew().catch((error) => {
    // A new connection next time (the database may have restarted).
    disconnect();
    parentPort.postMessage({ warn: String((error && error.message) || error) });
  });
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

let checkpointTimer = null;
function checkpoint() {
  if (closing) return;
  try {
    if (!db) db = openSqlite();
    db.pragma('wal_checkpoint(PASSIVE)');
    return true;
  } catch (error) {
    clearInterval(checkpointTimer);
    parentPort.postMessage({ checkpointing: false, error: String((error && error.message) || error) });
    return false;
  }
}
if (checkpointMs > 0 && checkpoint()) {
  parentPort.postMessage({ checkpointing: true });
  checkpointTimer = setInterval(checkpoint, checkpointMs);
}

parentPort.on('message', async (message) => {
  if (!message.close) return;
  closing = true;
  clearInterval(timer);
  clearInterval(checkpointTimer);
  await renewing;
  await disconnect().catch(() => undefined);
  parentPort.close();
});
`;
