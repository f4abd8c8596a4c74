/**
 * "The job still holds its unique key", the predicate of the partial unique index
 * `idx_managed_jobs_unique (type, unique_key)` (PostgreSQL, SQLite) and of every read of a
 * holder. Membership follows the status with no extra write anywhere: a `pending` (or
 * `waiting`) job holds its key until it first starts when `until: 'started'` (a claim sets
 * `started_at`; a retry clears it), a `running` one only when `until: 'finished'`.
 * The text is written once here, so the index, `ON CONFLICT … WHERE` and the reads agree.
 */
export const HOLDS_UNIQUE_KEY = `unique_key IS NOT NULL AND (status IN ('pending', 'waiting') AND (unique_until = 'finished' OR started_at IS NULL)
    OR status = 'running' AND unique_until = 'finished')`;
