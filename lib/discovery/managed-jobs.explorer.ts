import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { DUPLICATE_JOB_NAME, JOB_WITHOUT_HANDLE } from '../managed-jobs.messages.js';
import { ManagedJobsConfigurationError } from '../errors/managed-jobs.errors.js';
import { ManagedJobMetadataAccessor } from './managed-job-metadata.accessor.js';
import { JobRegistry } from './job-registry.js';
import { resolveQueueControl } from '../queue-control/queue-control.js';

/** Finds every `@ManagedJob()` provider at bootstrap and registers it; a broken one fails the boot. */
@Injectable()
export class ManagedJobsExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly accessor: ManagedJobMetadataAccessor,
    private readonly registry: JobRegistry,
  ) {}

  onModuleInit(): void {
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
      this.registry.add({
        name,
        target,
        instance,
        payload: options.payload,
        queue: options.queue,
        tries: positiveInt(options.tries ?? 1, `${target.name} tries`),
        backoff: (Array.isArray(options.backoff) ? options.backoff : [options.backoff ?? 0]).map((s) => Math.max(0, Number(s) || 0)),
        timeoutSeconds: options.timeout,
        idempotent: options.idempotent ?? true,
        http: options.http ?? false,
        priority: options.priority ?? 0,
        control: resolveQueueControl(options, target.name),
        options,
      });
    }
  }
}

function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ManagedJobsConfigurationError(`${what} must be an integer ≥ 1; got ${value}.`);
  return value;
}
