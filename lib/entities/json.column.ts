import { Column, type ColumnOptions } from 'typeorm';
import { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver.js';

/**
 * A JSON value: `jsonb` on PostgreSQL, text on SQLite, `json` on MySQL and MariaDB (where it is
 * `longtext` with a JSON check).
 *
 * TypeORM takes a column's type from the entity, the same for every driver (`timestamp.column.ts`
 * gets away with `Date`, which each driver maps itself; JSON has no such type: typeorm#2590), and
 * its MySQL/MariaDB driver refuses `jsonb`. `teachMysqlJsonb` below makes that driver read
 * `jsonb` as its own `json` (schema, validation, reading and writing values), once per process.
 * Nothing else changes: `jsonb` was an error on MySQL before, and PostgreSQL keeps its `jsonb`.
 */
export function JsonColumn(options: Omit<ColumnOptions, 'type'> = {}): PropertyDecorator {
  teachMysqlJsonb();
  return Column({ type: 'jsonb', ...options } as ColumnOptions);
}

const TAUGHT = Symbol.for('nestjs-managed-jobs.mysql-jsonb');

type ColumnLike = { type: unknown };
/** The column as the driver's `json` type (same metadata otherwise). */
const asJson = <C extends ColumnLike>(column: C): C => (column.type === 'jsonb' ? Object.assign(Object.create(column), { type: 'json' }) : column);

export function teachMysqlJsonb(): void {
  const proto = MysqlDriver.prototype as any;
  if (proto[TAUGHT]) return;
  proto[TAUGHT] = true;
  for (const method of ['normalizeType', 'preparePersistentValue', 'prepareHydratedValue'] as const) {
    const original = proto[method];
    proto[method] =
      method === 'normalizeType'
        ? function (this: unknown, column: ColumnLike) {
            return original.call(this, asJson(column));
          }
        : function (this: unknown, value: unknown, column: ColumnLike) {
            return original.call(this, value, asJson(column));
          };
  }
}
