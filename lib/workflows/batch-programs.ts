/**
 * The workflow transactions, written once for the three dialects as generators of `BatchOp`s
 * (see `batch-store.interface.ts`); each runs in one transaction that starts by locking the
 * batch row, so the member ends of one batch are serialised (see `batch.sql.ts`).
 *
 * - A member's run ends here, not on the hot path: its completion, failure or stop, the batch's
 *   counters (moved by one), the dependents it frees (`waiting` → `pending`) or stops, the
 *   failure policy, and the end of the batch, all in the transaction of the run end.
 * - `then` / `catch` / `finally` are inserted by the transaction that wins a conditional update
 *   (`finishBatch` on `status = 'running'`, `claimCallback` on its bit of `callbacks_sent`): whoever
 *   finishes the last member, and however many finish at once, each is dispatched exactly once.
 */
import { newJobId } from '../ids/job-id.js';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { BATCH_CANCELLED, BATCH_DEPENDENCY_ENDED, BATCH_STOPPED_BY } from '../managed-jobs.messages.js';
import type { BatchOp, BatchProgram, MemberEnds } from '../store/batch-store.interface.js';
import type { BatchSql } from '../store/batch.sql.js';
import { ID_CHUNK } from '../store/batch.sql.js';
import type { Completion, Failure, NewJob, ScopeFilter } from '../store/job-store.interface.js';
import { BatchStatus } from './batch.interfaces.js';
import { CALLBACK_BIT, failureEndsBatch, type BatchCallbacks, type BatchRow, type NewBatchRow } from './batch-row.js';
import type { BatchPlan } from './batch-plan.js';

const all = (q: { text: string; values: unknown[] }): BatchOp => ({ op: 'all', q });
const run = (q: { text: string; values: unknown[] }): BatchOp => ({ op: 'run', q });

function chunks<T>(items: T[], size = ID_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Moves the batch's counters (locking its row) and returns the row after. */
function* bump(sql: BatchSql, batchId: string, delta: Parameters<BatchSql['bumpBatch']>[1]): BatchProgram<BatchRow | null> {
  const rows = yield all(sql.bumpBatch(batchId, delta));
  if (Array.isArray(rows) && rows.length) return rows[0];
  return (yield all(sql.lockBatch(batchId)))[0] ?? null;
}

/** What a program changed, for the events the caller publishes after the commit. */
export interface BatchChange {
  /** The batch row after the change (null: no such batch). */
  batch: BatchRow | null;
  /** This transaction ended the batch. */
  finished: boolean;
  /** Running members this transaction stopped (their workers are told). */
  stoppedRunning: string[];
  /** Ids of the callback jobs it dispatched. */
  callbacks: string[];
  /** Whether jobs became due (wake the local worker). */
  queued: boolean;
}

/** Members written in one go: the rows, their membership, their dependencies, who waits. */
function* writeMembers(sql: BatchSql, batchId: string, plan: BatchPlan): BatchProgram<void> {
  for (let i = 0; i < plan.members.length; i += 2000) {
    yield { op: 'insert', jobs: plan.members.slice(i, i + 2000), members: { batchId, keys: plan.keys.slice(i, i + 2000) } };
  }
  for (const part of chunks(plan.edges)) yield run(sql.insertDependencies(part));
  for (const part of chunks(plan.waiting)) yield run(sql.setWaiting(part));
}

export function* createBatch(sql: BatchSql, batch: NewBatchRow, plan: BatchPlan): BatchProgram<void> {
  yield run(sql.insertBatch(batch));
  yield* writeMembers(sql, batch.batchId, plan);
}

/** `ctx.batch.add()`: members of a running batch (null: not found; else the row, whose status says whether it ran). */
export function* addMembers(sql: BatchSql, batchId: string, plan: (existing: Map<string, string>) => BatchPlan, keys: string[]): BatchProgram<BatchRow | null> {
  const [batch] = yield all(sql.lockBatch(batchId));
  if (!batch || batch.status !== BatchStatus.Running) return batch ?? null;
  const existing = new Map<string, string>();
  /** Dependencies that already failed or were stopped: job id → key. */
  const endedDeps = new Map<string, string>();
  for (const part of chunks(keys)) {
    for (const row of (yield all(sql.membersByKey(batchId, part))) as any[]) {
      existing.set(row.batch_key, row.job_id);
      if (row.status === 'failed' || row.status === 'stopped') endedDeps.set(row.job_id, row.batch_key);
    }
  }
  const p = plan(existing);
  yield* writeMembers(sql, batchId, p);
  yield* bump(sql, batchId, { total: p.members.length });
  // Dependencies that already completed free their new dependents now; ones that failed stop them,
  // naming the dependency, and recorded as stopped by it (a retry of it revives them, as for members
  // stopped when it failed).
  const doomed = new Set<string>();
  const doomedBy = new Map<string, string[]>();
  for (const [id, dep] of p.edges) {
    if (!endedDeps.has(dep) || doomed.has(id)) continue;
    doomed.add(id);
    doomedBy.set(dep, [...(doomedBy.get(dep) ?? []), id]);
  }
  let stopped = 0;
  for (const [dep, ids] of doomedBy) {
    for (const part of chunks(ids)) stopped += yield run(sql.stopUnstarted(part, BATCH_DEPENDENCY_ENDED(endedDeps.get(dep)!), dep));
  }
  if (stopped) yield* bump(sql, batchId, { stopped });
  yield* release(sql, p.waiting.filter((id) => !doomed.has(id)));
  const [after] = yield all(sql.lockBatch(batchId));
  return after;
}

/** Waiting members among `ids` whose dependencies all completed become due. */
function* release(sql: BatchSql, ids: string[]): BatchProgram<boolean> {
  const queues = new Set<string>();
  for (const part of chunks(ids)) {
    const ready: Array<{ job_id: string; queue: string }> = yield all(sql.ready(part));
    if (!ready.length) continue;
    yield run(sql.setPending(ready.map((r) => r.job_id)));
    for (const r of ready) queues.add(r.queue);
  }
  if (queues.size) yield { op: 'wake', queues: [...queues] };
  return queues.size > 0;
}

/** The template's job, with a fresh id, due now. */
function callbackJob(callbacks: BatchCallbacks, which: keyof BatchCallbacks): NewJob | null {
  const t = callbacks[which];
  return t ? { ...t, jobId: newJobId(), availableAt: null, delayMs: 0, retryUntil: null } : null;
}

function* dispatchCallback(sql: BatchSql, batch: BatchRow, which: keyof BatchCallbacks, change: BatchChange): BatchProgram<void> {
  const callbacks: BatchCallbacks = batch.callbacks ? JSON.parse(batch.callbacks) : {};
  const job = callbackJob(callbacks, which);
  if (!job) return;
  if (!(yield run(sql.claimCallback(batch.batch_id, CALLBACK_BIT[which])))) return;
  yield { op: 'insert', jobs: [job] };
  yield run(sql.markCallback(batch.batch_id, job.jobId));
  change.callbacks.push(job.jobId);
  change.queued = true;
}

/** Stop every unstarted member and ask running ones to stop (all but `except`); returns how many stopped. */
function* stopAll(sql: BatchSql, batchId: string, reason: string, stoppedBy: string | null, change: BatchChange, except?: string): BatchProgram<number> {
  let stopped = 0;
  const unstarted: Array<{ job_id: string }> = yield all(sql.membersIn(batchId, ['waiting', 'pending']));
  for (const part of chunks(unstarted.map((r) => r.job_id))) stopped += yield run(sql.stopUnstarted(part, reason, stoppedBy));
  const running: Array<{ job_id: string }> = yield all(sql.runningLocked(batchId));
  for (const { job_id } of running) {
    if (job_id === except) continue;
    const row: ManagedJobEntity | null = yield { op: 'stop', jobId: job_id };
    if (row) change.stoppedRunning.push(job_id);
  }
  stopped += change.stoppedRunning.length;
  for (const part of chunks(change.stoppedRunning)) yield run(sql.markStoppedBy(part, reason, stoppedBy));
  return stopped;
}

/**
 * What a member's end does to its batch, after the member's own row changed in this transaction:
 * the batch row is locked already (see `batch.sql.ts`); the counter moves, then dependents,
 * the failure policy and the end of the batch. Null when the batch does not exist.
 */
function* afterEnd(sql: BatchSql, batchId: string, member: { jobId: string; key: string | null }, outcome: 'completed' | 'failed' | 'stopped'): BatchProgram<BatchChange | null> {
  const delta = { completed: 0, failed: 0, stopped: 0 };
  delta[outcome] = 1;
  let batch = yield* bump(sql, batchId, delta);
  if (!batch) return null;
  const change: BatchChange = { batch, finished: false, stoppedRunning: [], callbacks: [], queued: false };
  let failBatch = false;
  let stopped = 0;
  if (outcome === 'completed') {
    const dependents: Array<{ job_id: string }> = yield all(sql.dependents([member.jobId]));
    if (dependents.length) change.queued = yield* release(sql, dependents.map((d) => d.job_id));
  } else {
    const name = member.key ?? member.jobId;
    failBatch = outcome === 'failed' && batch.status === BatchStatus.Running && failureEndsBatch(batch, Number(batch.failed));
    if (failBatch) {
      stopped = yield* stopAll(sql, batchId, BATCH_STOPPED_BY(name), member.jobId, change, member.jobId);
    } else {
      // Whatever depends on it, directly or not, can no longer run.
      const closure: Array<{ job_id: string }> = yield all(sql.dependentsClosure(member.jobId));
      for (const part of chunks(closure.map((r) => r.job_id))) stopped += yield run(sql.stopUnstarted(part, BATCH_DEPENDENCY_ENDED(name), member.jobId));
    }
  }
  if (stopped) batch = (yield* bump(sql, batchId, { stopped }))!;
  change.batch = batch;
  if (outcome === 'failed') yield* dispatchCallback(sql, batch, 'catch', change);
  const finished = Number(batch.completed) + Number(batch.failed) + Number(batch.stopped) >= Number(batch.total);
  const status = failBatch ? BatchStatus.Failed : !finished ? null : Number(batch.failed) > 0 ? BatchStatus.Partial : BatchStatus.Completed;
  if (status) yield* finish(sql, batch, status, change);
  return change;
}

/** Ends the batch with `status` if it is still running; the winner dispatches `then` (when completed) and `finally`. */
function* finish(sql: BatchSql, batch: BatchRow, status: BatchStatus, change: BatchChange): BatchProgram<void> {
  if (!(yield run(sql.finishBatch(batch.batch_id, status)))) return;
  change.finished = true;
  const [row] = yield all(sql.lockBatch(batch.batch_id));
  change.batch = row;
  if (status === BatchStatus.Completed) yield* dispatchCallback(sql, row, 'then', change);
  yield* dispatchCallback(sql, row, 'finally', change);
}

type MemberRef = { jobId: string; key: string | null; batchId: string };

/** A member's completion (null: the run was no longer its own). */
export function* completeMember(sql: BatchSql, member: MemberRef, completion: Completion, workerId: string, oneStatement = false): BatchProgram<BatchChange | null> {
  const { done, changes } = yield* completeMembers(sql, [{ member, completion }], workerId, oneStatement);
  return done.length ? (changes[0] ?? emptyChange()) : null;
}

/**
 * Members' completions in one transaction (the facade batches those that finish together, as the
 * claim loop batches plain ones), in a fixed number of statements however many batches they
 * belong to: the batch rows locked (in batch id order, so two processes' transactions lock them
 * in one order and cannot deadlock on them) and read, the runs ended, the dependents of all the
 * completed members read, then one statement that moves every batch's counter and ends those
 * whose last member this was. Whether a batch ends is decided from its locked row plus what this
 * transaction completed, so only one transaction ever sees its last member; `then` / `finally`
 * are still claimed by their conditional bit (`claimCallback`).
 * `oneStatement` (PostgreSQL, `BatchDriver.endsMembersInOneStatement`): those steps are one
 * statement, in the same order and with the same locks (`endMembers`).
 */
export function* completeMembers(
  sql: BatchSql,
  items: Array<{ member: MemberRef; completion: Completion }>,
  workerId: string,
  oneStatement = false,
): BatchProgram<{ done: string[]; changes: BatchChange[] }> {
  const ends: MemberEnds = oneStatement
    ? yield { op: 'endMembers', items: items.map((i) => ({ jobId: i.member.jobId, batchId: i.member.batchId, completion: i.completion })), workerId }
    : yield* endMembers(sql, items, workerId);
  const changes: BatchChange[] = ends.batches.map((b) => ({ batch: b.row, finished: b.finished, stoppedRunning: [], callbacks: [], queued: false }));
  if (!changes.length) return { done: ends.done, changes };
  const dependents = ends.dependents ?? (yield* dependentsOf(sql, items, ends));
  if (dependents.length) changes[0].queued = yield* release(sql, dependents);
  for (const change of changes) {
    if (!change.finished || !change.batch) continue;
    if (change.batch.status === BatchStatus.Completed) yield* dispatchCallback(sql, change.batch, 'then', change);
    yield* dispatchCallback(sql, change.batch, 'finally', change);
  }
  return { done: ends.done, changes };
}

/** The batches locked, the runs completed and the counters moved, step by step (the dependents are read after). */
function* endMembers(sql: BatchSql, items: Array<{ member: MemberRef; completion: Completion }>, workerId: string): BatchProgram<MemberEnds> {
  const batchIds = [...new Set(items.map((i) => i.member.batchId))].sort();
  const locked = new Map<string, BatchRow>();
  for (const part of chunks(batchIds)) for (const row of (yield all(sql.lockBatches(part))) as BatchRow[]) locked.set(row.batch_id, row);
  const done: string[] = yield { op: 'complete', runs: items.map((i) => i.completion), workerId };
  const ended = new Set(done);
  const counts = new Map<string, number>();
  for (const { member } of items) if (ended.has(member.jobId) && locked.has(member.batchId)) counts.set(member.batchId, (counts.get(member.batchId) ?? 0) + 1);
  if (!counts.size) return { done, batches: [], dependents: null };
  const moves = [...counts.keys()].sort().map((batchId) => {
    const row = locked.get(batchId)!;
    const completed = counts.get(batchId)!;
    const last = Number(row.completed) + completed + Number(row.failed) + Number(row.stopped) >= Number(row.total);
    const status = row.status === BatchStatus.Running && last ? (Number(row.failed) > 0 ? BatchStatus.Partial : BatchStatus.Completed) : null;
    return { batchId, completed, status };
  });
  const after = new Map<string, BatchRow>();
  for (const part of chunks(moves, MOVES_CHUNK)) {
    const rows = yield all(sql.completeInBatches(part));
    if (Array.isArray(rows) && rows.length) for (const row of rows as BatchRow[]) after.set(row.batch_id, row);
    else for (const row of (yield all(sql.lockBatches(part.map((m) => m.batchId)))) as BatchRow[]) after.set(row.batch_id, row);
  }
  return { done, batches: moves.map((m) => ({ batchId: m.batchId, row: after.get(m.batchId) ?? null, finished: m.status !== null })), dependents: null };
}

/** Dependents of every completed member of a moved batch at once (the rows of members without any cost one index probe each). */
function* dependentsOf(sql: BatchSql, items: Array<{ member: MemberRef }>, ends: MemberEnds): BatchProgram<string[]> {
  const done = new Set(ends.done);
  const moved = new Set(ends.batches.map((b) => b.batchId));
  const counted = items.filter((i) => done.has(i.member.jobId) && moved.has(i.member.batchId)).map((i) => i.member.jobId);
  const dependents = new Set<string>();
  for (const part of chunks(counted)) for (const d of (yield all(sql.dependents(part))) as Array<{ job_id: string }>) dependents.add(d.job_id);
  return [...dependents];
}

/** Batches per `completeInBatches` statement (four parameters each at most). */
const MOVES_CHUNK = 200;

/** A member's failed try: a retry changes nothing of the batch; a final failure applies the policy. */
export function* failMember(sql: BatchSql, member: MemberRef, failure: Failure, workerId: string): BatchProgram<{ job: ManagedJobEntity; change: BatchChange | null } | null> {
  yield all(sql.lockBatch(member.batchId));
  const job: ManagedJobEntity | null = yield { op: 'fail', run: failure, workerId };
  if (!job) return null;
  if (job.status !== 'failed') return { job, change: null };
  return { job, change: yield* afterEnd(sql, member.batchId, member, 'failed') };
}

/** A failure written elsewhere (a reaped run): counted once, by the process that reaped it. */
export function* memberFailed(sql: BatchSql, member: MemberRef): BatchProgram<BatchChange | null> {
  const [batch] = yield all(sql.lockBatch(member.batchId));
  const [row] = yield all(sql.memberStatus(member.jobId));
  if (!batch || row?.status !== 'failed') return null;
  return yield* afterEnd(sql, member.batchId, member, 'failed');
}

/** `stop()` of a member: stopped, its dependents with it. */
export function* stopMember(sql: BatchSql, member: MemberRef, scope: ScopeFilter | undefined): BatchProgram<{ job: ManagedJobEntity; change: BatchChange } | null> {
  const [batch] = yield all(sql.lockBatch(member.batchId));
  const job: ManagedJobEntity | null = yield { op: 'stop', jobId: member.jobId, scope };
  if (!job) return null;
  return { job, change: batch ? ((yield* afterEnd(sql, member.batchId, member, 'stopped')) ?? emptyChange()) : emptyChange() };
}

/**
 * `retry()` of a failed or stopped member: back in the queue (or `waiting` while a dependency has
 * not completed), the batch reopened, and the members its failure stopped waiting again.
 */
export function* retryMember(
  sql: BatchSql,
  member: MemberRef,
  tries: number,
  retryUntil: Date | null,
  scope: ScopeFilter | undefined,
): BatchProgram<{ job: ManagedJobEntity; change: BatchChange } | null> {
  const [batch] = yield all(sql.lockBatch(member.batchId));
  const [before] = yield all(sql.memberStatus(member.jobId));
  const job: ManagedJobEntity | null = yield { op: 'retry', jobId: member.jobId, tries, retryUntil, scope };
  if (!job) return null;
  const change: BatchChange = { ...emptyChange(), batch, queued: true };
  if (!batch) return { job, change };
  const delta = { failed: before?.status === 'failed' ? -1 : 0, stopped: before?.status === 'stopped' ? -1 : 0 };
  // Not due while a dependency has not completed: back to waiting.
  yield run(sql.setWaiting([member.jobId]));
  const revived: Array<{ job_id: string }> = yield all(sql.stoppedBy(member.batchId, member.jobId));
  for (const part of chunks(revived.map((r) => r.job_id))) {
    yield { op: 'endedCounts', jobIds: part, sign: -1 };
    delta.stopped -= yield run(sql.revive(part));
    yield { op: 'endedCounts', jobIds: part, sign: 1 };
  }
  yield* release(sql, [member.jobId, ...revived.map((r) => r.job_id)]);
  yield* bump(sql, member.batchId, delta);
  yield run(sql.reopenBatch(member.batchId));
  [change.batch] = yield all(sql.lockBatch(member.batchId));
  const [after] = yield all(sql.memberStatus(member.jobId));
  job.status = after.status;
  return { job, change };
}

/** `cancelBatch()`: unstarted members stopped, running ones asked to stop, `cancelled`, `finally` dispatched. */
export function* cancelBatch(sql: BatchSql, batchId: string, inScope: (row: BatchRow) => boolean): BatchProgram<BatchChange | null> {
  const [batch] = yield all(sql.lockBatch(batchId));
  if (!batch || !inScope(batch)) return null;
  const change: BatchChange = { ...emptyChange(), batch };
  if (batch.status !== BatchStatus.Running) return change;
  const stopped = yield* stopAll(sql, batchId, BATCH_CANCELLED(), null, change);
  const now = (yield* bump(sql, batchId, { stopped }))!;
  yield* finish(sql, now, BatchStatus.Cancelled, change);
  return change;
}

function emptyChange(): BatchChange {
  return { batch: null, finished: false, stoppedRunning: [], callbacks: [], queued: false };
}
