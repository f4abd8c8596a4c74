import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  BatchNotFoundError,
  BatchStatus,
  InvalidBatchError,
  InvalidJobPayloadError,
  JobRunnerService,
  JobStatus,
  ManagedJobBatchEntity,
  ManagedJobEntity,
  type BatchRecord,
} from '../../lib/index.js';
import { createTestDatabase, dialects, waitFor, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { CallbackJob, StepJob, WorkflowProbe, workflowJobs } from './workflow-jobs.js';

const owner = { ownerId: 'u1', tenantId: 't1' };
const callbacks = {
  then: { job: CallbackJob, payload: { kind: 'then' } },
  catch: { job: CallbackJob, payload: { kind: 'catch' } },
  finally: { job: CallbackJob, payload: { kind: 'finally' } },
};

describe.each(dialects)('batches, chains and DAGs on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let runner: JobRunnerService;
  let probe: WorkflowProbe;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    app = await createTestApp(db, { providers: workflowJobs, options: { worker: { concurrency: 4 } } });
    runner = app.get(JobRunnerService);
    probe = app.get(WorkflowProbe);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const ended = (batchId: string) =>
    waitFor(async () => {
      const b = await runner.findBatch(batchId);
      return b && b.status !== BatchStatus.Running ? b : null;
    }, { timeoutMs: 20_000 });
  const callbacksOf = (batchId: string) => probe.callbacks.filter((c) => c.batchId === batchId).map((c) => c.kind).sort();
  const members = async (batchId: string) => (await runner.list({ batchId, limit: 100 })).data;
  const byKey = async (batchId: string) => new Map((await members(batchId)).map((m) => [m.batchKey, m]));

  it('runs a batch, keeps its counters, and dispatches then and finally once each (not catch)', async () => {
    const batch = await runner.batch(
      Array.from({ length: 6 }, (_, i) => ({ job: StepJob, payload: { name: `b${i}` } })),
      { ...owner, name: 'import', ...callbacks },
    );
    expect(batch).toMatchObject({ name: 'import', status: BatchStatus.Running, total: 6, completed: 0, failed: 0, progress: 0, ownerUserId: 'u1', ownerTenantId: 't1' });
    const done = await ended(batch.batchId);
    expect(done).toMatchObject({ status: BatchStatus.Completed, total: 6, completed: 6, failed: 0, stopped: 0, pending: 0, running: 0, progress: 100 });
    expect(done.finishedAt).toBeInstanceOf(Date);
    await waitFor(() => callbacksOf(batch.batchId).length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(callbacksOf(batch.batchId)).toEqual(['finally', 'then']);
    const list = await members(batch.batchId);
    expect(list).toHaveLength(6);
    expect(list.every((m) => m.batchId === batch.batchId && m.status === JobStatus.Completed && m.ownerUserId === 'u1')).toBe(true);
    // callback jobs belong to the owner and are no members
    const cbJobs = await app.get(DataSource).getRepository(ManagedJobEntity).findBy({ callbackBatchId: batch.batchId });
    expect(cbJobs.map((j) => [j.ownerUserId, j.ownerTenantId, j.batchId])).toEqual([['u1', 't1', null], ['u1', 't1', null]]);
    const events = probe.batchEvents.filter((e) => e.batchId === batch.batchId);
    // One progress event per transaction that ended members (members ending together share one).
    const progress = events.filter((e) => e.name === 'managed-batch.progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(6);
    expect(progress[progress.length - 1]).toMatchObject({ completed: 6, progress: 100 });
    expect(events.filter((e) => e.name === 'managed-batch.finished')).toEqual([expect.objectContaining({ status: 'completed', progress: 100, completed: 6 })]);
  });

  it('runs a chain in order and hands each member its dependency results', async () => {
    const chain = await runner.chain(
      [
        { job: StepJob, payload: { name: 'extract', value: { rows: 3 } }, key: 'extract' },
        { job: StepJob, payload: { name: 'transform', value: { rows: 2 } }, key: 'transform' },
        { job: StepJob, payload: { name: 'load' } },
      ],
      owner,
    );
    const keys = await byKey(chain.batchId);
    expect(keys.get('transform')!.status).toBe(JobStatus.Waiting);
    expect(keys.get('2')!.status).toBe(JobStatus.Waiting);
    expect((await ended(chain.batchId)).status).toBe(BatchStatus.Completed);
    const runs = probe.runs.filter((r) => r.batchId === chain.batchId);
    expect(runs.map((r) => r.name)).toEqual(['extract', 'transform', 'load']);
    expect(runs[1].deps).toEqual({ extract: { rows: 3 } });
    expect(runs[2].deps).toEqual({ transform: { rows: 2 } });
  });

  it('runs a DAG: a join waits for every dependency', async () => {
    const dag = await runner.batch(
      [
        { job: StepJob, payload: { name: 'a', ms: 50 }, key: 'a' },
        { job: StepJob, payload: { name: 'b', ms: 200 }, key: 'b' },
        { job: StepJob, payload: { name: 'c' }, key: 'c', dependsOn: ['a', 'b'] },
        { job: StepJob, payload: { name: 'd' }, key: 'd', dependsOn: ['c'] },
      ],
      owner,
    );
    expect((await ended(dag.batchId)).status).toBe(BatchStatus.Completed);
    const order = probe.runs.filter((r) => r.batchId === dag.batchId).map((r) => r.name);
    expect(order.slice(2)).toEqual(['c', 'd']);
    expect(probe.runs.find((r) => r.batchId === dag.batchId && r.name === 'c')!.deps).toEqual({ a: 'a', b: 'b' });
  });

  it('refuses an unknown key, a duplicate key, a cycle, an invalid payload and too many items, writing nothing', async () => {
    const repo = app.get(DataSource).getRepository(ManagedJobBatchEntity);
    const before = await repo.count();
    const jobsBefore = await app.get(DataSource).getRepository(ManagedJobEntity).count();
    const refused = async (items: any[], problem: string) => {
      const error = await runner.batch(items, owner).catch((e) => e);
      expect(error).toBeInstanceOf(InvalidBatchError);
      expect(error.problem).toBe(problem);
      return error;
    };
    expect((await refused([{ job: StepJob, payload: { name: 'x' }, dependsOn: ['nope'] }], 'unknownKey')).message).toMatch(/"nope"/);
    await refused([{ job: StepJob, payload: { name: 'x' }, key: 'k' }, { job: StepJob, payload: { name: 'y' }, key: 'k' }], 'duplicateKey');
    const cycle = await refused(
      [
        { job: StepJob, payload: { name: 'x' }, key: 'x', dependsOn: ['z'] },
        { job: StepJob, payload: { name: 'y' }, key: 'y', dependsOn: ['x'] },
        { job: StepJob, payload: { name: 'z' }, key: 'z', dependsOn: ['y'] },
      ],
      'cycle',
    );
    expect(cycle.message).toMatch(/x → z → y → x|z → y → x → z|y → x → z → y/);
    await refused([], 'empty');
    await refused(Array.from({ length: 10_001 }, (_, i) => ({ job: StepJob, payload: { name: `n${i}` } })), 'tooLarge');
    const invalid = await runner
      .batch([{ job: StepJob, payload: { name: 'ok' } }, { job: StepJob, payload: { name: 42 } as any, key: 'bad' }], owner)
      .catch((e) => e);
    expect(invalid).toBeInstanceOf(InvalidJobPayloadError);
    expect(invalid).toMatchObject({ memberIndex: 1, memberKey: 'bad' });
    expect(await repo.count()).toBe(before);
    expect(await app.get(DataSource).getRepository(ManagedJobEntity).count()).toBe(jobsBefore);
  });

  it('failFast: the first failure ends the batch failed, stops the rest, dispatches catch and finally once', async () => {
    const batch = await runner.batch(
      [
        { job: StepJob, payload: { name: 'slow', ms: 20_000 }, key: 'slow' },
        { job: StepJob, payload: { name: 'boom', fail: true, ms: 100 }, key: 'boom' },
        { job: StepJob, payload: { name: 'later' }, key: 'later', dependsOn: ['slow'] },
      ],
      { ...owner, ...callbacks },
    );
    const done = await ended(batch.batchId);
    expect(done).toMatchObject({ status: BatchStatus.Failed, failed: 1, stopped: 2, completed: 0, progress: 100 });
    const keys = await byKey(batch.batchId);
    expect(keys.get('slow')!.status).toBe(JobStatus.Stopped);
    expect(keys.get('later')!.status).toBe(JobStatus.Stopped);
    expect(keys.get('later')!.failedReason).toMatch(/boom/);
    await waitFor(() => callbacksOf(batch.batchId).length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(callbacksOf(batch.batchId)).toEqual(['catch', 'finally']);
  });

  it('continue: dependents of a failure are stopped transitively, the rest run, the batch ends partial', async () => {
    const batch = await runner.batch(
      [
        { job: StepJob, payload: { name: 'bad', fail: true }, key: 'bad' },
        { job: StepJob, payload: { name: 'child' }, key: 'child', dependsOn: ['bad'] },
        { job: StepJob, payload: { name: 'grandchild' }, key: 'grandchild', dependsOn: ['child'] },
        { job: StepJob, payload: { name: 'fine' }, key: 'fine' },
      ],
      { ...owner, failurePolicy: 'continue', ...callbacks },
    );
    const done = await ended(batch.batchId);
    expect(done).toMatchObject({ status: BatchStatus.Partial, completed: 1, failed: 1, stopped: 2, pending: 0 });
    const keys = await byKey(batch.batchId);
    expect(keys.get('grandchild')!.status).toBe(JobStatus.Stopped);
    expect(keys.get('fine')!.status).toBe(JobStatus.Completed);
    await waitFor(() => callbacksOf(batch.batchId).length === 2);
    expect(callbacksOf(batch.batchId)).toEqual(['catch', 'finally']);
  });

  it('threshold: as continue up to n failures, then as failFast', async () => {
    const within = await runner.batch(
      [
        { job: StepJob, payload: { name: 't1', fail: true } },
        { job: StepJob, payload: { name: 't2' } },
      ],
      { ...owner, failurePolicy: { threshold: 1 } },
    );
    expect((await ended(within.batchId)).status).toBe(BatchStatus.Partial);
    const over = await runner.batch(
      [
        { job: StepJob, payload: { name: 'o1', fail: true } },
        { job: StepJob, payload: { name: 'o2', fail: true, ms: 200 } },
        { job: StepJob, payload: { name: 'o3' }, key: 'o3', dependsOn: ['x'] },
        { job: StepJob, payload: { name: 'ox', ms: 10_000 }, key: 'x' },
      ],
      { ...owner, failurePolicy: { threshold: 1 } },
    );
    const done = await ended(over.batchId);
    expect(done).toMatchObject({ status: BatchStatus.Failed, failed: 2 });
    expect(done.stopped).toBe(2);
  });

  it('retry() of a failed member reopens the batch and revives the members its failure stopped', async () => {
    const batch = await runner.batch(
      [
        { job: StepJob, payload: { name: 'first', fail: true }, key: 'first' },
        { job: StepJob, payload: { name: 'second' }, key: 'second', dependsOn: ['first'] },
      ],
      { ...owner, failurePolicy: 'continue', ...callbacks },
    );
    expect((await ended(batch.batchId)).status).toBe(BatchStatus.Partial);
    const first = (await byKey(batch.batchId)).get('first')!;
    // make the retried run succeed: rewrite its payload (the test's stand-in for a fixed bug)
    await app.get(DataSource).getRepository(ManagedJobEntity).update({ jobId: first.jobId }, { payload: { name: 'first' } as any });
    const retried = await runner.retry(first.jobId);
    expect([JobStatus.Pending, JobStatus.Running, JobStatus.Completed]).toContain(retried.status);
    const reopened = await runner.findBatch(batch.batchId);
    expect(reopened!.finishedAt === null || reopened!.status === BatchStatus.Completed).toBe(true);
    const done = await waitFor(async () => {
      const b = await runner.findBatch(batch.batchId);
      return b?.status === BatchStatus.Completed ? b : null;
    }, { timeoutMs: 20_000 });
    expect(done).toMatchObject({ completed: 2, failed: 0, stopped: 0, progress: 100 });
    expect((await byKey(batch.batchId)).get('second')!.status).toBe(JobStatus.Completed);
    await waitFor(() => callbacksOf(batch.batchId).length === 3);
    await new Promise((r) => setTimeout(r, 300));
    // catch and finally went out at the first end, then when it completed: each once
    expect(callbacksOf(batch.batchId)).toEqual(['catch', 'finally', 'then']);
  });

  it('cancelBatch: unstarted members stopped, running ones asked to stop, cancelled, finally dispatched', async () => {
    const batch = await runner.batch(
      [
        { job: StepJob, payload: { name: 'c-run', ms: 20_000 }, key: 'run' },
        { job: StepJob, payload: { name: 'c-wait' }, dependsOn: ['run'] },
      ],
      { ...owner, ...callbacks },
    );
    await waitFor(async () => (await byKey(batch.batchId)).get('run')!.status === JobStatus.Running);
    const cancelled = await runner.cancelBatch(batch.batchId, owner);
    expect(cancelled).toMatchObject({ status: BatchStatus.Cancelled, stopped: 2, running: 0, progress: 100 });
    expect(await runner.findBatch(batch.batchId, { ownerId: 'u2', tenantId: 't1' })).toBeNull();
    await expect(runner.cancelBatch(batch.batchId, { ownerId: 'u2', tenantId: 't1' })).rejects.toBeInstanceOf(BatchNotFoundError);
    await waitFor(() => callbacksOf(batch.batchId).length === 1);
    expect(callbacksOf(batch.batchId)).toEqual(['finally']);
    const events = probe.batchEvents.filter((e) => e.batchId === batch.batchId && e.name === 'managed-batch.finished');
    expect(events).toEqual([expect.objectContaining({ status: 'cancelled' })]);
  });

  it('ctx.batch.add() adds members that may depend on existing keys', async () => {
    const batch = await runner.batch(
      [
        { job: StepJob, payload: { name: 'root', value: 'r' }, key: 'root' },
        {
          job: StepJob,
          key: 'adder',
          payload: { name: 'adder', add: [{ job: 'wf-step', payload: { name: 'added' }, key: 'added', dependsOn: ['root'] }] },
        },
      ],
      owner,
    );
    const done = await ended(batch.batchId);
    expect(done).toMatchObject({ status: BatchStatus.Completed, total: 3, completed: 3 });
    const added = probe.runs.find((r) => r.batchId === batch.batchId && r.name === 'added');
    expect(added!.deps).toEqual({ root: 'r' });
  });

  it('ctx.batch.add() of a member that depends on a failed one stops it at once, naming that member', async () => {
    const batch = await runner.batch(
      [
        { job: StepJob, payload: { name: 'bad', fail: true }, key: 'bad' },
        { job: StepJob, key: 'waiter', dependsOn: ['bad'], payload: { name: 'waiter' } },
        // adds once 'bad' has failed (and 'waiter' was stopped by it)
        { job: StepJob, key: 'adder', payload: { name: 'adder', addAfterMs: 400, add: [{ job: 'wf-step', payload: { name: 'late' }, key: 'late', dependsOn: ['bad'] }] } },
      ],
      { ...owner, failurePolicy: 'continue' },
    );
    const done = await ended(batch.batchId);
    expect(done).toMatchObject({ status: BatchStatus.Partial, total: 4, completed: 1, failed: 1, stopped: 2 });
    const members = (await runner.list({ ...owner, batchId: batch.batchId, limit: 10 })).data;
    const late = members.find((m) => m.batchKey === 'late')!;
    const bad = members.find((m) => m.batchKey === 'bad')!;
    expect(late.createdAt.getTime()).toBeGreaterThanOrEqual(bad.finishedAt!.getTime()); // added after the failure
    expect(late.status).toBe(JobStatus.Stopped);
    expect(late.failedReason).toBe('Stopped: batch member bad did not complete.');
    expect(probe.order()).not.toContain('late');
  });

  it('writes a batch inside the caller’s transaction: rolled back, nothing is left', async () => {
    const ds = app.get(DataSource);
    const before = await ds.getRepository(ManagedJobBatchEntity).count();
    let record: BatchRecord | undefined;
    await ds
      .transaction(async (manager) => {
        record = await runner.batch([{ job: StepJob, payload: { name: 'tx' } }, { job: StepJob, payload: { name: 'tx2' }, key: 'k', dependsOn: [] }], { ...owner, manager });
        throw new Error('rollback');
      })
      .catch(() => undefined);
    expect(record!.total).toBe(2);
    expect(await ds.getRepository(ManagedJobBatchEntity).count()).toBe(before);
    expect(await runner.findBatch(record!.batchId)).toBeNull();

    let committed: BatchRecord | undefined;
    await ds.transaction(async (manager) => {
      committed = await runner.batch([{ job: StepJob, payload: { name: 'tx3' } }], { ...owner, manager });
    });
    expect((await ended(committed!.batchId)).status).toBe(BatchStatus.Completed);
  });
});
