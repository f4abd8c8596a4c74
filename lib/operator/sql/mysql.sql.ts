/** MySQL/MariaDB: times read as text (whatever the pool's `timezone`), JSON as text; no DELETE … RETURNING on MySQL. */
import { operatorSql } from './operator-sql.builder.js';

const NOW = `UTC_TIMESTAMP(3)`;

export const mysqlOperatorSql = operatorSql({
  param: () => '?',
  now: NOW,
  timeText: (c) => `CAST(${c} AS CHAR)`,
  jsonText: (c) => `CAST(${c} AS CHAR)`,
  idText: (c) => `CAST(${c} AS CHAR)`,
  timeParam: (p) => `CAST(${p} AS DATETIME(3))`,
  minusMs: (p) => `${NOW} - INTERVAL ROUND(${p} * 1000) MICROSECOND`,
  floor: (e) => `FLOOR(${e})`,
  diffMs: (later, earlier) => `(TIMESTAMPDIFF(MICROSECOND, ${earlier}, ${later}) / 1000)`,
  minId: (c) => `min(${c})`,
  inIds: (column, ids, values) => {
    values.push(...ids);
    return ids.length ? `${column} IN (${ids.map(() => '?').join(', ')})` : '1 = 0';
  },
  // utf8mb4_bin compares exactly: fold both sides for a case-insensitive search.
  ilike: `COLLATE utf8mb4_general_ci LIKE`,
  likeEscape: '',
  upsert: (insert, _key, updates) => `${insert} ON DUPLICATE KEY UPDATE ${updates.map((u) => `${u} = VALUES(${u})`).join(', ')}`,
  wrapSelfSubquery: (q) => `SELECT log_id FROM (${q}) AS cut`,
  pendingIndexHint: '',
});
