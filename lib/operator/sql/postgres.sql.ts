/** PostgreSQL: times are `timestamp` columns holding UTC, read as text (TypeORM's pool would read them as local time). */
import { operatorSql } from './operator-sql.builder.js';

const NOW = `timezone('UTC', now())`;

export const postgresOperatorSql = operatorSql({
  param: (n) => `$${n}`,
  now: NOW,
  timeText: (c) => `to_char(${c}, 'YYYY-MM-DD HH24:MI:SS.MS')`,
  jsonText: (c) => `${c}::text`,
  idText: (c) => `${c}::text`,
  timeParam: (p) => `${p}::timestamp`,
  minusMs: (p) => `${NOW} - make_interval(secs => ${p}::float8 / 1000.0)`,
  floor: (e) => `floor(${e})::int`,
  diffMs: (later, earlier) => `(extract(epoch FROM (${later} - ${earlier})) * 1000)::float8`,
  minId: (c) => `min(${c}::text)::uuid`,
  inIds: (column, ids, values) => {
    values.push(ids);
    return `${column} = ANY($${values.length}::uuid[])`;
  },
  ilike: 'ILIKE',
  likeEscape: '',
  upsert: (insert, key, updates) => `${insert} ON CONFLICT (${key}) DO UPDATE SET ${updates.map((u) => `${u} = EXCLUDED.${u}`).join(', ')}`,
  wrapSelfSubquery: (q) => q,
  pendingIndexHint: '',
});
