import type { JobContext } from './job-context.interface.js';

/** The contract of a `@ManagedJob()` provider. */
export interface ManagedJobHandler<P = unknown, R = unknown> {
  /**
   * Do the work. What it returns (JSON-serialisable) is stored as the job's `result`; returning
   * nothing (as after a stop) stores null.
   */
  handle(ctx: JobContext<P>): Promise<R | void> | R | void;
  /** Called once the job has failed for good (retries exhausted, or lost and not idempotent). */
  failed?(error: Error, ctx: JobContext<P>): Promise<void> | void;
}

/** A `@ManagedJob()` class whose instances are `H`, as passed to `dispatch()`. */
export type ManagedJobClass<H = unknown> = abstract new (...args: any[]) => H;

type Handled<H> = H extends { handle(ctx: JobContext<infer P>): infer R } ? { payload: P; result: Exclude<Awaited<R>, void | undefined> } : { payload: unknown; result: unknown };

/** The payload type of a job (an instance type, `JobPayloadOf<ExportJob>`), read from `handle(ctx: JobContext<P>)`. */
export type JobPayloadOf<H> = Handled<H>['payload'];

/** What a job's `handle()` resolves to, as stored in `result` (`undefined` is stored as null). */
export type JobResultOf<H> = Handled<H>['result'];

/**
 * What `dispatch()` accepts for a payload of type `P`: its data properties (a payload class's
 * methods are not sent). `unknown` stays `unknown`: a job without a payload type takes any JSON.
 */
export type DispatchPayload<P> = unknown extends P ? unknown : P extends object ? { [K in keyof P as P[K] extends (...args: any[]) => any ? never : K]: P[K] } : P;
