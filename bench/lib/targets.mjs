/**
 * The performance targets the issues set, one row each: what `npm run bench -- --quick --check`
 * checks (bench/lib/check.mjs) and exits non-zero on when one is missed.
 *
 * - `ours` / `peer`: a figure of the run, `{ scenario, metric, contender }`: the scenario id of
 *   run.mjs, the metric (the result's key; default `value`) and the contender id. `ours*` stands
 *   for each of ours that ran the scenario; a peer's `=` for the same contender as `ours` (a
 *   comparison within our engine: unique vs plain dispatch, with vs without a million rows).
 * - `ratio: [min, max]`: ours against the peer, >1× = ours better (throughput ours÷peer, latency
 *   and other lower-is-better figures peer÷ours), the median of the per-repetition ratios.
 * - `value: [min, max]`: bounds on ours' own figure (the peer's is shown beside it).
 */
export const TARGETS = [
  // Issue 19, the table "Where we stand" (ours on PostgreSQL against BullMQ and graphile tuned).
  { issue: 19, figure: 'enqueue one by one, 10 in flight', ours: { scenario: 'enqSingle', contender: 'ours-pg' }, peer: { scenario: 'enqSingle', contender: 'bullmq' }, ratio: [1.0] },
  { issue: 19, figure: 'drain c=10', ours: { scenario: 'drain10', contender: 'ours-pg' }, peer: { scenario: 'drain10', contender: 'bullmq' }, ratio: [1.0] },
  { issue: 19, figure: 'drain c=50 vs BullMQ', ours: { scenario: 'drain50', contender: 'ours-pg' }, peer: { scenario: 'drain50', contender: 'bullmq' }, ratio: [1.2] },
  { issue: 19, figure: 'drain c=50 vs graphile tuned', ours: { scenario: 'drain50', contender: 'ours-pg' }, peer: { scenario: 'drain50', contender: 'graphile-tuned' }, ratio: [2.0] },
  { issue: 19, figure: 'start latency in-process p99', ours: { scenario: 'latencyIn', metric: 'p99', contender: 'ours-pg' }, peer: { scenario: 'latencyIn', metric: 'p99', contender: 'bullmq' }, ratio: [1.0] },
  { issue: 19, figure: 'start latency cross-process p99', ours: { scenario: 'latencyX', metric: 'p99', contender: 'ours-pg' }, peer: { scenario: 'latencyX', metric: 'p99', contender: 'bullmq' }, ratio: [1.0] },
  { issue: 19, figure: 'SQLite start latency cross-process p99, ms', ours: { scenario: 'latencyX', metric: 'p99', contender: 'ours-sqlite' }, peer: { scenario: 'latencyX', metric: 'p99', contender: 'bullmq' }, value: [null, 5] },
  { issue: 19, figure: 'SQLite worker RSS growth, 2nd half of the drain, MB', ours: { scenario: 'memory', contender: 'ours-sqlite' }, peer: { scenario: 'memory', contender: 'bullmq' }, value: [null, 5] },
  { issue: 19, figure: 'SQLite worker RSS plateau (end of the drain), MB', ours: { scenario: 'memory', metric: 'endRss', contender: 'ours-sqlite' }, peer: { scenario: 'memory', metric: 'endRss', contender: 'bullmq' }, value: [null, 150] },
  // Issue 19, "What to build" 2: the scale, prune-under-load and memory scenarios (opt-in, see run.mjs).
  { issue: 19, figure: 'scale: drain with the full table ÷ on an empty table', ours: { scenario: 'scale', contender: 'ours*' }, peer: { scenario: 'scale', metric: 'emptyRate', contender: '=' }, ratio: [0.8] },
  { issue: 19, figure: "scale: an owner's list() p95, ms", ours: { scenario: 'scale', metric: 'listP95', contender: 'ours*' }, peer: { scenario: 'scale', metric: 'listP95', contender: 'bullmq' }, value: [null, 20] },
  { issue: 19, figure: 'scale: stats() p95, ms', ours: { scenario: 'scale', metric: 'statsP95', contender: 'ours*' }, peer: { scenario: 'scale', metric: 'statsP95', contender: 'bullmq' }, value: [null, 50] },
  { issue: 19, figure: 'prune under load: drain while pruning ÷ without', ours: { scenario: 'pruneLoad', contender: 'ours*' }, peer: { scenario: 'pruneLoad', metric: 'baseRate', contender: '=' }, ratio: [0.7] },
  { issue: 19, figure: 'prune under load: longest prune statement (PG) / write transaction (SQLite), ms', ours: { scenario: 'pruneLoad', metric: 'longestMs', contender: 'ours*' }, peer: { scenario: 'pruneLoad', metric: 'longestMs', contender: 'bullmq' }, value: [null, 100] },
  { issue: 19, figure: 'memory: worker RSS growth from 25% to 100% of the big drain, MB', ours: { scenario: 'memory1M', contender: 'ours*' }, peer: { scenario: 'memory1M', contender: 'bullmq' }, value: [null, 5] },
  // Issue 12, "Tests and figures": queue control against plain jobs of the same engine.
  { issue: 12, figure: 'unique dispatch ÷ plain dispatch', ours: { scenario: 'enqUnique', contender: 'ours*' }, peer: { scenario: 'enqSingle', contender: '=' }, ratio: [0.8] },
  { issue: 12, figure: 'c=50 drain over 100 concurrency keys ÷ plain c=50 drain', ours: { scenario: 'drain50keys', contender: 'ours*' }, peer: { scenario: 'drain50', contender: '=' }, ratio: [0.7] },
  { issue: 12, figure: 'rate-limited queue: achieved rate ÷ its limit', ours: { scenario: 'rate200', contender: 'ours*' }, peer: { scenario: 'rate200', metric: 'limit', contender: '=' }, ratio: [0.95, 1.0] },
  // Issue 13, "Tests and figures": batches against BullMQ flows, and against plain jobs of the same engine.
  { issue: 13, figure: 'batches of 10 vs BullMQ FlowProducer', ours: { scenario: 'batch10', contender: 'ours*' }, peer: { scenario: 'batch10', contender: 'bullmq' }, ratio: [1.0] },
  { issue: 13, figure: 'one big batch vs BullMQ FlowProducer', ours: { scenario: 'batchBig', contender: 'ours*' }, peer: { scenario: 'batchBig', contender: 'bullmq' }, ratio: [1.0] },
  { issue: 13, figure: 'per-member overhead: batch members/s ÷ plain drain jobs/s (c=10)', ours: { scenario: 'batch10', contender: 'ours*' }, peer: { scenario: 'drain10', contender: '=' }, ratio: [0.7] },
];
