/** SQLite: times are stored as UTC text already; ids and JSON are text. */
import { operatorSql } from './operator-sql.builder.js';

const NOW = `strftime('%Y-%m-%d %H:%M:%f', 'now')`;

export const sqliteOperatorSql = operatorSql({
  param: () => '?',
  now: NOW,
  timeText: (c) => c,
  jsonText: (c) => c,
  idText: (c) => c,
  timeParam: (p) => p,
  minusMs: (p) => `strftime('%Y-%m-%d %H:%M:%f', 'now', printf('-%.3f seconds', ${p} / 1000.0))`,
  floor: (e) => `CAST(${e} AS INTEGER)`, // positive here: truncation is the floor
  diffMs: (later, earlier) => `((julianday(${later}) - julianday(${earlier})) * 86400000.0)`,
  minId: (c) => `min(${c})`,
  inIds: (column, ids, values) => {
    values.push(JSON.stringify(ids));
    return `${column} IN (SELECT value FROM json_each(?))`;
  },
  // LIKE is case-insensitive for ASCII in SQLite; the escape character must be named.
  ilike: `LIKE`,
  likeEscape: ` ESCAPE '\\'`,
  upsert: (insert, key, updates) => `${insert} ON CONFLICT (${key}) DO UPDATE SET ${updates.map((u) => `${u} = excluded.${u}`).join(', ')}`,
  wrapSelfSubquery: (q) => q,
  pendingIndexHint: 'INDEXED BY idx_managed_jobs_claim',
});
