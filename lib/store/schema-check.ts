import type { DataSource } from 'typeorm';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { MIGRATIONS_NOT_RUN } from '../managed-jobs.messages.js';
import { POSTGRES_FUNCTION_PROBE, SCHEMA_PROBE } from './schema-probe.sql.js';

/**
 * SQLite says "no such table: x"; PostgreSQL raises 42P01 `relation "x" does not exist` (and 42883
 * `function … does not exist` for the keyed claim's function); MySQL and MariaDB ER_NO_SUCH_TABLE
 * `Table 'db.x' doesn't exist`.
 */
function missingTable(error: unknown): string | null {
  const e = error as { code?: string; message?: string; driverError?: { code?: string } } | null;
  const message = String(e?.message ?? '');
  const code = e?.code ?? e?.driverError?.code;
  if (/no such table/i.test(message) || code === '42P01' || code === '42883' || code === 'ER_NO_SUCH_TABLE') return message;
  return null;
}

/**
 * Fails the boot, once, with the fix when the queue tables do not exist (the migrations were not
 * run), instead of a worker logging "no such table" on every poll. One statement that reads no row.
 */
export async function assertSchema(dataSource: DataSource): Promise<void> {
  try {
    await dataSource.query(SCHEMA_PROBE);
    if (dataSource.options.type === 'postgres') await dataSource.query(POSTGRES_FUNCTION_PROBE);
  } catch (error) {
    const detail = missingTable(error);
    if (detail !== null) throw new ManagedJobsConfigurationError(MIGRATIONS_NOT_RUN(String(dataSource.options.type), detail));
    throw error;
  }
}
