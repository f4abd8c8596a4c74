/**
 * Type-level tests, checked by `tsc -p tsconfig.json --noEmit` (the first step of `npm test`),
 * never run. Each `@ts-expect-error` must meet an error, or tsc fails ("unused directive"), so a
 * `dispatch()` that stopped checking payloads fails the build.
 */
import type { JobContext, JobRunnerService, ManagedJobEntity, ManagedJobHandler } from '../../lib/index.js';

class ExportPayload {
  format!: 'csv' | 'xlsx';
  rows?: number;
  describe(): string {
    return this.format;
  }
}

class ExportJob implements ManagedJobHandler<ExportPayload, { file: string }> {
  async handle(ctx: JobContext<ExportPayload>) {
    if (await ctx.isStopped()) return;
    return { file: `export.${ctx.payload.format}` };
  }
}

/** No `implements`: the types come from `handle`'s signature alone. */
class PingJob {
  handle(ctx: JobContext<{ host: string }>): number {
    return ctx.payload.host.length;
  }
}

/** No payload type: any JSON goes. */
class AnythingJob {
  handle() {}
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

export async function dispatchIsTyped(runner: JobRunnerService, user: { id: number; tenantId: string }) {
  // Right payloads compile; a payload class's methods are not part of what is sent.
  const job = await runner.dispatch(ExportJob, { format: 'csv' }, { owner: user });
  await runner.dispatch(ExportJob, { format: 'xlsx', rows: 10 });
  await runner.dispatch(PingJob, { host: 'example.org' });
  await runner.dispatch(AnythingJob, { whatever: [1, 2] });
  await runner.dispatch(AnythingJob, null);

  // @ts-expect-error an unknown property
  await runner.dispatch(ExportJob, { wrong: 1 });
  // @ts-expect-error a known property plus an unknown one
  await runner.dispatch(ExportJob, { format: 'csv', wrong: 1 });
  // @ts-expect-error a value outside the property's type
  await runner.dispatch(ExportJob, { format: 'pdf' });
  // @ts-expect-error a required property missing
  await runner.dispatch(ExportJob, {});
  // @ts-expect-error inferred from handle() without `implements`
  await runner.dispatch(PingJob, { host: 42 });
  // @ts-expect-error dispatchMany checks every item
  await runner.dispatchMany(ExportJob, [{ payload: { format: 'csv' } }, { payload: { format: 'doc' } }]);

  // By name, the payload is unknown: checked at run time only.
  const byName = await runner.dispatch('export', { wrong: 1 });
  assertType<Equal<typeof byName, ManagedJobEntity>>();

  // The record is typed from the class: payload, and result (undefined is stored as null).
  assertType<Equal<typeof job.payload, ExportPayload>>();
  assertType<Equal<typeof job.result, { file: string } | null>>();

  // find: untyped by default, typed when the class is named.
  const found = await runner.find(job.jobId);
  assertType<Equal<NonNullable<typeof found>['result'], unknown>>();
  const typed = await runner.find<ExportJob>(job.jobId);
  assertType<Equal<NonNullable<typeof typed>['result'], { file: string } | null>>();
  assertType<Equal<NonNullable<Awaited<ReturnType<typeof runner.find<PingJob>>>>['result'], number | null>>();
  // @ts-expect-error the result of an ExportJob has no `rows`
  typed?.result?.rows;
}

export async function ownersTakeEitherShape(runner: JobRunnerService) {
  const plain = { id: 'u1', tenantId: 't1' };
  const owner = { getManagedJobOwnerId: () => 'u1', getManagedJobTenantId: () => 't1' };
  await runner.dispatch('export', {}, { owner: plain, triggeredBy: plain });
  await runner.dispatch('export', {}, { owner, triggeredBy: owner });
  await runner.find('id', { owner: plain });
  await runner.list({ owner: plain });
  // @ts-expect-error an owner needs an id
  await runner.dispatch('export', {}, { owner: { tenantId: 't1' } });
}
