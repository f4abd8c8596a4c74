import type { DynamicModule, Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { JOB_STORE, JOB_TELEMETRY, MOUNTED_PARTS, RESOLVED_OPTIONS, STORAGE_DRIVER } from './managed-jobs.constants.js';
import type { ManagedJobsModuleExtras, ManagedJobsModuleOptions } from './interfaces/managed-jobs-options.interface.js';
import { checkMountedParts, resolveOptions, type MountedParts, type ResolvedOptions } from './managed-jobs.options.js';
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
import { assertSchema } from './store/schema-check.js';
import { LocalStorageDriver } from './storage/local-storage.driver.js';
import { JobEventsRelay } from './gateway/job-events.relay.js';
import { managedJobsGatewayParts } from './gateway/gateway-activation.js';
import { ManagedJobFilesService } from './files/managed-job-files.service.js';
import { ManagedJobsMaintenanceService } from './maintenance/managed-jobs-maintenance.service.js';
import { ManagedJobsScheduler } from './maintenance/managed-jobs.scheduler.js';
import { managedJobsHttpParts } from './http/managed-jobs-http.parts.js';
import { ManagedJobsStartup } from './managed-jobs.startup.js';
import { createJobTelemetry } from './telemetry/job-telemetry.factory.js';
import { JobTelemetryCloser } from './telemetry/job-telemetry.closer.js';
import { ManagedJobsHealthIndicator } from './telemetry/managed-jobs-health.indicator.js';
import { managedSchedulesProviders } from './schedules/managed-schedules.providers.js';
import { ManagedSchedulesService } from './schedules/managed-schedules.service.js';
import { operatorProviders } from './operator/operator.providers.js';
import { operatorApiParts } from './operator/operator-api.parts.js';
import { ManagedJobsOperatorService } from './operator/managed-jobs-operator.service.js';
import { dashboardParts } from './dashboard/dashboard.parts.js';
import { OperatorFeedState } from './gateway/operator-feed.js';

/**
 * Applied by `setExtras` to what `forRoot` and `forRootAsync` build, so both follow one rule:
 * the controller is mounted when the `controller` extra is true (`forRoot` sets it from
 * `http.enabled`, which it can see); the gateway is registered unless `gateway: false`, and serves
 * sockets when `broadcasting.enabled` and its optional peers are installed (decided at boot, see
 * `gateway-activation.ts`). A factory whose `http.enabled` contradicts the mounted controller
 * fails the boot with the fix. Only the public services are exported.
 */
export function withManagedJobsParts(definition: DynamicModule, extras: ManagedJobsModuleExtras, optionsToken: string | symbol): DynamicModule {
  const dataSource = extras.dataSource;
  const mounted: MountedParts = { controller: extras.controller === true, gateway: extras.gateway !== false, operator: extras.operatorApi === true };
  const providers: Provider[] = [
    { provide: MOUNTED_PARTS, useValue: mounted },
    {
      provide: RESOLVED_OPTIONS,
      inject: [optionsToken],
      useFactory: (options: ManagedJobsModuleOptions) => {
        checkMountedParts(options, mounted);
        return resolveOptions(options);
      },
    },
    {
      provide: JOB_STORE,
      inject: [getDataSourceToken(dataSource), RESOLVED_OPTIONS],
      useFactory: async (ds: DataSource, options: ResolvedOptions) => {
        const store = createJobStore(ds, options.postgres);
        try {
          await assertSchema(ds);
        } catch (error) {
          await store.close();
          throw error;
        }
        return store;
      },
    },
    {
      provide: STORAGE_DRIVER,
      inject: [RESOLVED_OPTIONS],
      useFactory: (options: ResolvedOptions) => options.storage.driver ?? new LocalStorageDriver(options.storage.root),
    },
    JobStoreCloser,
    { provide: JOB_TELEMETRY, inject: [RESOLVED_OPTIONS, JOB_STORE], useFactory: createJobTelemetry },
    JobTelemetryCloser,
    ManagedJobsHealthIndicator,
    ManagedJobMetadataAccessor,
    ManagedJobsExplorer,
    JobRegistry,
    JobEventsPublisher,
    JobWorker,
    JobReaper,
    JobRunnerService,
    JobEventsRelay,
    OperatorFeedState,
    ...(mounted.gateway ? managedJobsGatewayParts() : []),
    ManagedJobFilesService,
    ManagedJobsMaintenanceService,
    ManagedJobsScheduler,
    ...managedSchedulesProviders(dataSource),
    ...operatorProviders(dataSource),
    ManagedJobsStartup,
  ];
  const http = mounted.controller ? managedJobsHttpParts() : { controllers: [], providers: [] };
  const operatorApi = mounted.operator ? operatorApiParts() : { controllers: [], providers: [] };
  const dashboard = mounted.operator ? dashboardParts() : { controllers: [], providers: [] };
  return {
    ...definition,
    global: extras.isGlobal ?? true,
    imports: [...(definition.imports ?? []), DiscoveryModule, TypeOrmModule.forFeature(managedJobsEntities, dataSource)],
    controllers: [...(definition.controllers ?? []), ...http.controllers, ...operatorApi.controllers, ...dashboard.controllers],
    providers: [...(definition.providers ?? []), ...providers, ...http.providers, ...operatorApi.providers, ...dashboard.providers],
    exports: [
      JobRunnerService,
      ManagedSchedulesService,
      ManagedJobsOperatorService,
      ManagedJobFilesService,
      ManagedJobsMaintenanceService,
      JobEventsPublisher,
      ManagedJobsHealthIndicator,
    ],
  };
}
