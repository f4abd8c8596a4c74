import { Injectable, Type } from '@nestjs/common';
import { UnknownJobError } from '../errors/managed-jobs.errors.js';
import type { ManagedJobHandler } from '../interfaces/managed-job-handler.interface.js';
import type { ManagedJobOptions } from '../interfaces/managed-job-options.interface.js';
import type { JobMiddleware } from '../interfaces/job-middleware.interface.js';
import type { RunPolicy } from './job-options.js';
import type { QueueControl } from '../interfaces/queue-control.interface.js';

/** A discovered job: its declaration with defaults applied, and the provider instance. */
export interface RegisteredJob extends RunPolicy {
  name: string;
  target: Function;
  instance: ManagedJobHandler;
  payload?: Type<object>;
  queue?: string;
  /** Module-wide middleware, then the job's own (outermost first); resolved before the app starts. */
  middleware: JobMiddleware[];
  idempotent: boolean;
  http: boolean;
  priority: number;
  /** `unique`, `concurrency`, `rateLimit`, checked at boot. */
  control: QueueControl;
  options: ManagedJobOptions;
}

/** Every `@ManagedJob()` of the application, by name and by class. */
@Injectable()
export class JobRegistry {
  private readonly byName = new Map<string, RegisteredJob>();
  private readonly byClass = new Map<Function, RegisteredJob>();

  add(job: RegisteredJob): void {
    this.byName.set(job.name, job);
    this.byClass.set(job.target, job);
  }

  get(name: string): RegisteredJob | undefined {
    return this.byName.get(name);
  }

  /** Resolve a class or a name, or throw `UnknownJobError`. */
  resolve(job: Function | string): RegisteredJob {
    const found = typeof job === 'string' ? this.byName.get(job) : this.byClass.get(job);
    if (!found) throw new UnknownJobError(typeof job === 'string' ? job : job.name);
    return found;
  }

  all(): RegisteredJob[] {
    return [...this.byName.values()];
  }
}
