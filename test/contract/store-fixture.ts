/**
 * What the store contract suite needs of a dialect: a fresh database with the shipped migrations
 * run, and the real store the module would build on it (`createJobStore` on a TypeORM
 * DataSource). A new dialect joins the suite by appearing here (through `dialects` and
 * `createTestDatabase` in ../support/databases.ts); nothing in the suite names a dialect.
 */
import { DataSource } from 'typeorm';
import { managedJobsEntities, managedJobsMigrations } from '../../lib/index.js';
import { createJobStore } from '../../lib/store/job-store.factory.js';
import type { JobStore } from '../../lib/store/job-store.interface.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';

export interface StoreUnderTest {
  dataSource: DataSource;
  store: JobStore;
}

export interface StoreFixture {
  /** The dialect's name, for test titles. */
  name: string;
  /** Create the database and run the shipped migrations on it. */
  setUp(): Promise<void>;
  /** A store on its own DataSource: a "process". Closed by `closeStores`. */
  openStore(): Promise<StoreUnderTest>;
  /** Close every store and DataSource opened since the last call (stores first, as the module does). */
  closeStores(): Promise<void>;
  tearDown(): Promise<void>;
}

export const storeFixtures: StoreFixture[] = dialects.map((dialect) => {
  let db: TestDatabase | undefined;
  const open: StoreUnderTest[] = [];
  return {
    name: dialect,
    async setUp() {
      db = await createTestDatabase(dialect);
      const ds = new DataSource({ ...db.typeorm, entities: managedJobsEntities, migrations: managedJobsMigrations(db.typeorm.type) });
      await ds.initialize();
      try {
        await ds.runMigrations();
      } finally {
        await ds.destroy();
      }
    },
    async openStore() {
      const dataSource = new DataSource({ ...db!.typeorm, entities: managedJobsEntities });
      await dataSource.initialize();
      const opened = { dataSource, store: createJobStore(dataSource) };
      open.push(opened);
      return opened;
    },
    async closeStores() {
      for (const { dataSource, store } of open.splice(0)) {
        await store.close();
        if (dataSource.isInitialized) await dataSource.destroy();
      }
    },
    async tearDown() {
      await db?.drop();
    },
  };
});
