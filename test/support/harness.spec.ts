/** Proves the test harness itself: shared PG server, per-spec databases, helpers. */
import fs from 'node:fs';
import { DataSource } from 'typeorm';
import { createTestDatabase, dialects, tmpDir, waitFor, type TestDatabase } from './databases.js';

async function open(db: TestDatabase): Promise<DataSource> {
  return new DataSource({ ...db.typeorm, entities: [] }).initialize();
}

describe.each(dialects)('test harness (%s)', (dialect) => {
  it('creates a usable, droppable database', async () => {
    const db = await createTestDatabase(dialect);
    expect(db.dialect).toBe(dialect);
    const ds = await open(db);
    try {
      expect(await ds.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await ds.destroy();
    }
    await db.drop();
    if (db.typeorm.type === 'better-sqlite3') {
      expect(fs.existsSync(db.typeorm.database)).toBe(false);
    }
  });

  it('gives every call an isolated database', async () => {
    const [a, b] = [await createTestDatabase(dialect), await createTestDatabase(dialect)];
    expect(a.typeorm.database).not.toBe(b.typeorm.database);
    const [dsA, dsB] = [await open(a), await open(b)];
    try {
      await dsA.query('CREATE TABLE only_in_a (id integer)');
      await dsA.query('INSERT INTO only_in_a (id) VALUES (1)');
      await expect(dsB.query('SELECT * FROM only_in_a')).rejects.toThrow(/only_in_a/);
    } finally {
      await Promise.all([dsA.destroy(), dsB.destroy()]);
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});

describe('postgres drop()', () => {
  it('force-closes open connections and removes the database', async () => {
    const db = await createTestDatabase('postgres');
    const ds = await open(db); // left open on purpose: WITH (FORCE) must cope
    await ds.query('SELECT 1');
    await db.drop();
    await ds.destroy().catch(() => undefined);
    const check = await createTestDatabase('postgres');
    const admin = await open(check);
    try {
      const rows = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.typeorm.database]);
      expect(rows).toEqual([]);
    } finally {
      await admin.destroy();
      await check.drop();
    }
  });
});

describe('helpers', () => {
  it('tmpDir makes fresh empty directories', () => {
    const [a, b] = [tmpDir('harness'), tmpDir('harness')];
    expect(a).not.toBe(b);
    expect(fs.readdirSync(a)).toEqual([]);
    fs.rmSync(a, { recursive: true });
    fs.rmSync(b, { recursive: true });
  });

  it('waitFor returns the first truthy value', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? `done after ${n}` : null))).resolves.toBe('done after 3');
  });

  it('waitFor times out with a description and the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('not yet');
        },
        { timeoutMs: 100, description: 'the impossible' },
      ),
    ).rejects.toThrow(/timed out after 100 ms: the impossible[\s\S]*Last error: not yet/);
  });
});
