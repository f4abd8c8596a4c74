import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { JOB_STORE, RESOLVED_OPTIONS, STORAGE_DRIVER } from './managed-jobs.constants.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE } from './managed-jobs.module-definition.js';
import type { ManagedJobsModuleOptions } from './interfaces/managed-jobs-options.interface.js';
import { resolveOptions, type ResolvedOptions } from './managed-jobs.options.js';
import { managedJobsEntities } from './entities/index.js';
import { ManagedJobMetadataAccessor } from './discovery/managed-job-metadata.accessor.js';
import { ManagedJobsExplorer } from './discovery/managed-jobs.explorer.js';
import { JobRegistry } from './discovery/job-registry.js';
import { JobEventsPublisher } from './events/job-events.publisher.js';
import { JobWorker } from './worker/job-worker.js';
import { JobReaper } from './worker/reaper.js';
import { JobRunnerService } from './services/job-runner.service.js';
import { createJobStore } from './store/job-store.factory.js';
import { JobStoreCloser } from './store/job-store.closer.js';
import { LocalStorageDriver } from './storage/local-storage.driver.js';
import { JobEventsRelay } from './gateway/job-events.relay.js';
import { ManagedJobsGateway } from './gateway/managed-jobs.gateway.js';
import { ManagedJobFilesService } from './files/managed-job-files.service.js';
import { ManagedJobsMaintenanceService } from './maintenance/managed-jobs-maintenance.service.js';
import { ManagedJobsScheduler } from './maintenance/managed-jobs.scheduler.js';
import { managedJobsHttpParts } from './http/managed-jobs-http.parts.js';

type Extras = typeof OPTIONS_TYPE;

/**
 * Background jobs as durable, observable records. Import once, next to `TypeOrmModule.forRoot()`
 * (and `EventEmitterModule.forRoot()` / `ScheduleModule.forRoot()`, which this module never calls).
 */
@Module({})
export class ManagedJobsModule extends ConfigurableModuleClass {
  static forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    const gateway = options.gateway ?? options.broadcasting?.enabled ?? true;
    const controller = options.controller ?? options.http?.enabled ?? false;
    return ManagedJobsModule.withCore(super.forRoot(options), { ...options, gateway, controller });
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return ManagedJobsModule.withCore(super.forRootAsync(options), { ...options, gateway: options.gateway ?? true });
  }

  /**
   * Adds what both variants share: entities, the store on the named data source, the worker, the
   * event relay (PostgreSQL), and the socket.io gateway when `extras.gateway`.
   */
  private static withCore(definition: DynamicModule, extras: Partial<Extras>): DynamicModule {
    const dataSource = extras.dataSource;
    const providers: Provider[] = [
      {
        provide: RESOLVED_OPTIONS,
        inject: [MODULE_OPTIONS_TOKEN],
        useFactory: (options: ManagedJobsModuleOptions) => resolveOptions(options),
      },
      {
        provide: JOB_STORE,
        inject: [getDataSourceToken(dataSource), RESOLVED_OPTIONS],
        useFactory: (ds: DataSource, options: ResolvedOptions) => createJobStore(ds, options.postgres),
      },
      {
        provide: STORAGE_DRIVER,
        inject: [RESOLVED_OPTIONS],
        useFactory: (options: ResolvedOptions) => options.storage.driver ?? new LocalStorageDriver(options.storage.root),
      },
      JobStoreCloser,
      ManagedJobMetadataAccessor,
      ManagedJobsExplorer,
      JobRegistry,
      JobEventsPublisher,
      JobWorker,
      JobReaper,
      JobRunnerService,
      JobEventsRelay,
      ...(extras.gateway ? [ManagedJobsGateway] : []),
      ManagedJobFilesService,
      ManagedJobsMaintenanceService,
      ManagedJobsScheduler,
    ];
    const http = extras.controller ? managedJobsHttpParts() : { controllers: [], providers: [] };
    return {
      ...definition,
      global: extras.isGlobal ?? true,
      imports: [...(definition.imports ?? []), DiscoveryModule, TypeOrmModule.forFeature(managedJobsEntities, dataSource)],
      controllers: [...(definition.controllers ?? []), ...http.controllers],
      providers: [...(definition.providers ?? []), ...providers, ...http.providers],
      exports: [JobRunnerService, ManagedJobFilesService, ManagedJobsMaintenanceService, JobEventsPublisher, JobRegistry, JOB_STORE, RESOLVED_OPTIONS, STORAGE_DRIVER],
    };
  }
}
