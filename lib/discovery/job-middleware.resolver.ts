import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { JobMiddleware } from '../interfaces/job-middleware.interface.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { MIDDLEWARE_NOT_INJECTABLE } from '../managed-jobs.messages.js';

/**
 * Job middleware instances through Nest's DI, as `@UseGuards(Class)` resolves guards: the app's
 * provider when the class is listed in some module, else an instance created with its
 * dependencies injected (from this module's scope and the global modules). One instance per class.
 * Anything else (not a class, dependencies Nest cannot see or resolve, no `use`) fails the boot.
 */
export class JobMiddlewareResolver {
  private readonly resolved = new Map<Function, Promise<JobMiddleware>>();

  constructor(private readonly moduleRef: ModuleRef) {}

  /** `where` names the declaration in messages (`Job "export"`, `Option middleware`). */
  resolveAll(where: string, classes: unknown): Promise<JobMiddleware[]> {
    if (classes === undefined) return Promise.resolve([]);
    if (!Array.isArray(classes)) {
      return Promise.reject(new ManagedJobsConfigurationError(MIDDLEWARE_NOT_INJECTABLE(where, String(classes), 'middleware must be an array of classes')));
    }
    return Promise.all(classes.map((cls) => this.resolve(where, cls)));
  }

  private resolve(where: string, cls: unknown): Promise<JobMiddleware> {
    if (typeof cls !== 'function') {
      return Promise.reject(new ManagedJobsConfigurationError(MIDDLEWARE_NOT_INJECTABLE(where, describe(cls), 'it is not a class')));
    }
    let found = this.resolved.get(cls);
    if (!found) {
      found = this.instantiate(where, cls as Type<JobMiddleware>);
      this.resolved.set(cls, found);
    }
    return found;
  }

  private async instantiate(where: string, cls: Type<JobMiddleware>): Promise<JobMiddleware> {
    const refuse = (reason: string) => new ManagedJobsConfigurationError(MIDDLEWARE_NOT_INJECTABLE(where, cls.name || 'anonymous class', reason));
    let instance: JobMiddleware;
    try {
      instance = this.moduleRef.get(cls, { strict: false });
    } catch {
      // Without @Injectable() (or another decorator) TypeScript records no constructor types, and
      // Nest would construct it with every dependency undefined.
      if (cls.length > 0 && !Reflect.getMetadata('design:paramtypes', cls)) {
        throw refuse('its constructor takes arguments but the class is not decorated with @Injectable()');
      }
      try {
        instance = await this.moduleRef.create(cls);
      } catch (error) {
        throw refuse((error as Error).message.split('\n')[0]);
      }
    }
    if (typeof instance?.use !== 'function') throw refuse('it has no use(ctx, next) method');
    return instance;
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
