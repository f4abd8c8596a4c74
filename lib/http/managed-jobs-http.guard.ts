import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { instantiate } from './configured-handlers.js';

/**
 * Runs `http.guards` in order, as `@UseGuards(...)` would: the first that says no ends the
 * request (403, or whatever it throws, e.g. 401). Read at run time, so the guards may come from
 * an async options factory. Global guards (`APP_GUARD`) run before it as usual.
 */
@Injectable()
export class ManagedJobsHttpGuard implements CanActivate {
  private guards?: Promise<CanActivate[]>;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    this.guards ??= instantiate(this.moduleRef, this.options.http.guards);
    for (const guard of await this.guards) {
      const verdict = guard.canActivate(context);
      const allowed = isObservable(verdict) ? await lastValueFrom(verdict) : await verdict;
      if (!allowed) return false;
    }
    return true;
  }
}
