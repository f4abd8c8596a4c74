import { DataSource } from 'typeorm';
import { managedJobsEntities, managedJobsMigrations } from '../../lib/index.js';
import { createTestDatabase, dialects } from '../support/databases.js';

describe.each(dialects)('shipped migrations on %s', (dialect) => {
  it('leave nothing for TypeORM’s schema builder to change, and roll back cleanly', async () => {
    const db = await createTestDatabase(dialect);
    const ds = new DataSource({ ...db.typeorm, entities: managedJobsEntities, migrations: managedJobsMigrations(db.typeorm.type) });
    try {
      await ds.initialize();
      const ran = await ds.runMigrations();
      expect(ran).toHaveLength(managedJobsMigrations(db.typeorm.type).length);
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);

      const indexes: string[] =
        dialect === 'postgres'
          ? (await ds.query(`SELECT indexname AS name FROM pg_indexes WHERE tablename LIKE 'managed_job%'`)).map((r: any) => r.name)
          : (await ds.query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'managed_job%'`)).map((r: any) => r.name);
      expect(indexes).toEqual(expect.arrayContaining(['idx_managed_jobs_claim', 'idx_managed_jobs_lease', 'idx_managed_jobs_owner', 'idx_managed_job_files_expiry', 'idx_managed_job_schedules_due']));

      for (let i = 0; i < ran.length; i++) await ds.undoLastMigration();
      const tables: string[] =
        dialect === 'postgres'
          ? (await ds.query(`SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'managed_job%'`)).map((r: any) => r.name)
          : (await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'managed_job%'`)).map((r: any) => r.name);
      expect(tables).toEqual([]);
    } finally {
      if (ds.isInitialized) await ds.destroy();
      await db.drop();
    }
  });

  it('refuses an unsupported database type with a clear message', () => {
    expect(() => managedJobsMigrations('mysql')).toThrow(/supports PostgreSQL .* and SQLite/);
  });
});
