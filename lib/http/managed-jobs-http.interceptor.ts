import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { defer, from, mergeAll, Observable, switchMap } from 'rxjs';
import { RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { instantiate } from './configured-handlers.js';

/** Wraps the handler in `http.interceptors`, first one outermost, as `@UseInterceptors(...)` would. */
@Injectable()
export class ManagedJobsHttpInterceptor implements NestInterceptor {
  private interceptors?: Promise<NestInterceptor[]>;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.options.http.interceptors.length) return next.handle();
    this.interceptors ??= instantiate(this.moduleRef, this.options.http.interceptors);
    return from(this.interceptors).pipe(
      switchMap((interceptors) =>
        interceptors
          .reduceRight<CallHandler>(
            (inner, interceptor) => ({
              handle: () => defer(() => from(Promise.resolve(interceptor.intercept(context, inner)))).pipe(mergeAll()),
            }),
            next,
          )
          .handle(),
      ),
    );
  }
}
