import { DataSource } from 'typeorm';
import { managedJobsEntities, managedJobsMigrations } from '../../lib/index.js';
import { createTestDatabase, dialects, type Dialect } from '../support/databases.js';

/** Where each dialect lists the indexes and tables of the store. */
const CATALOG: Record<Dialect, { indexes: string; tables: string }> = {
  postgres: {
    indexes: `SELECT indexname AS name FROM pg_indexes WHERE tablename LIKE 'managed_job%'`,
    tables: `SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'managed_job%'`,
  },
  sqlite: {
    indexes: `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'managed_job%'`,
    tables: `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'managed_job%'`,
  },
  mariadb: {
    indexes: `SELECT DISTINCT index_name AS name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name LIKE 'managed_job%'`,
    tables: `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'managed_job%'`,
  },
};

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

      const indexes: string[] = (await ds.query(CATALOG[dialect].indexes)).map((r: any) => r.name);
      expect(indexes).toEqual(expect.arrayContaining(['idx_managed_jobs_claim', 'idx_managed_jobs_lease', 'idx_managed_jobs_owner', 'idx_managed_job_files_expiry', 'idx_managed_job_schedules_due', 'idx_managed_job_logs_job']));
      // the operator's index over failed and stopped jobs is partial: MySQL/MariaDB has none (its claim index leads with the status);
      // none over every ended job (ManagedJobs*EndedCounts1765200000000 dropped it: an entry per completion)
      if (dialect !== 'mariadb') expect(indexes).toContain('idx_managed_jobs_failed');
      expect(indexes).not.toContain('idx_managed_jobs_ended');
      expect(indexes).not.toContain('idx_managed_jobs_status');
      // queue control (ManagedJobs*QueueControl1764500000000): MySQL/MariaDB keeps unique keys in a table of holds instead of a partial index
      const queueControl = dialect === 'mariadb' ? ['idx_managed_jobs_ckey', 'idx_managed_jobs_rkey'] : ['idx_managed_jobs_unique', 'idx_managed_jobs_ckey', 'idx_managed_jobs_ckey_running', 'idx_managed_jobs_rkey'];
      expect(indexes).toEqual(expect.arrayContaining(queueControl));
      const tables: string[] = (await ds.query(CATALOG[dialect].tables)).map((r: any) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['managed_job_keys', 'managed_job_rate_tokens', ...(dialect === 'mariadb' ? ['managed_job_unique_holds'] : [])]));
      // workflows (ManagedJobs*Workflows1765100000000)
      expect(tables).toEqual(expect.arrayContaining(['managed_job_batches', 'managed_job_dependencies']));
      expect(indexes).toEqual(expect.arrayContaining(['idx_managed_jobs_batch', 'idx_managed_job_dependencies_on']));
      // ended counts behind stats() (ManagedJobs*EndedCounts1765200000000): two small tables
      expect(tables).toEqual(expect.arrayContaining(['managed_job_ended_counts', 'managed_job_ended_mark']));

      for (let i = 0; i < ran.length; i++) await ds.undoLastMigration();
      expect((await ds.query(CATALOG[dialect].tables)).map((r: any) => r.name)).toEqual([]);
    } finally {
      if (ds.isInitialized) await ds.destroy();
      await db.drop();
    }
  });

  it('refuses an unsupported database type with a clear message', () => {
    expect(() => managedJobsMigrations('mssql')).toThrow(/supports PostgreSQL .*MySQL 8 and MariaDB 10.6\+ .* and SQLite .* the data source is 'mssql'/);
  });
});
