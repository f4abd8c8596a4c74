import { Column, ColumnOptions } from 'typeorm';

/**
 * A point in time, always stored in UTC.
 *
 * TypeORM has no column type that is `timestamptz` on PostgreSQL and valid on SQLite, so the
 * entities declare `Date` (PostgreSQL `timestamp`, SQLite `datetime`) and the store writes every
 * value in UTC from the database clock (`timezone('UTC', now())`, `strftime(... 'now')`).
 */
export function TimestampColumn(options: Omit<ColumnOptions, 'type'> = {}): PropertyDecorator {
  return Column({ type: Date, precision: 3, ...options } as ColumnOptions);
}
