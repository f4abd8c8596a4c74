import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { DUPLICATE_JOB_NAME, JOB_WITHOUT_HANDLE } from '../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { ManagedJobMetadataAccessor } from './managed-job-metadata.accessor.js';
import { JobRegistry, type RegisteredJob } from './job-registry.js';
import { checkJobDefaults, runPolicy } from './job-options.js';
import { JobMiddlewareResolver } from './job-middleware.resolver.js';
import { resolveQueueControl } from '../queue-control/queue-control.js';

/**
 * Finds every `@ManagedJob()` provider at bootstrap and registers it with its run policy
 * (`job-options.ts`) and its middleware resolved through DI; a broken one fails the boot.
 */
@Injectable()
export class ManagedJobsExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly accessor: ManagedJobMetadataAccessor,
    private readonly registry: JobRegistry,
    private readonly moduleRef: ModuleRef,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    const defaults = this.options.jobDefaults;
    checkJobDefaults(defaults);
    const added: RegisteredJob[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance;
      // Resolve through instance.constructor so factory (useFactory/useValue) providers work too.
      const target: Function | undefined = instance?.constructor;
      if (!instance || !target || !wrapper.isDependencyTreeStatic()) continue;
      const options = this.accessor.getJobOptions(target);
      if (!options) continue;
      if (typeof instance.handle !== 'function') throw new ManagedJobsConfigurationError(JOB_WITHOUT_HANDLE(target.name));
      const name = options.name ?? target.name;
      const existing = this.registry.get(name);
      if (existing && existing.target !== target) {
        throw new ManagedJobsConfigurationError(DUPLICATE_JOB_NAME(name, existing.target.name, target.name));
      }
      if (existing) continue; // the same class listed in two modules
      const job: RegisteredJob = {
        name,
        target,
        instance,
        payload: options.payload,
        queue: options.queue,
        ...runPolicy(`Job "${name}" (${target.name})`, options, defaults),
        middleware: [],
        idempotent: options.idempotent ?? true,
        http: options.http ?? false,
        priority: options.priority ?? 0,
        control: resolveQueueControl(options, target.name),
        options,
      };
      this.registry.add(job);
      added.push(job);
    }
    // Middleware last: resolving may create instances, and every job is registered by then.
    const resolver = new JobMiddlewareResolver(this.moduleRef);
    const moduleWide = await resolver.resolveAll('Option middleware', this.options.middleware);
    for (const job of added) {
      const own = await resolver.resolveAll(`Job "${job.name}" (${job.target.name})`, job.options.middleware);
      job.middleware = [...moduleWide, ...own];
    }
  }
}
