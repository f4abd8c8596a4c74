import { DynamicModule, Module } from '@nestjs/common';
import { ConfigurableModuleClass, OPTIONS_TYPE } from './managed-jobs.module-definition.js';

/**
 * Background jobs as durable, observable records. Import once, next to `TypeOrmModule.forRoot()`
 * (and `EventEmitterModule.forRoot()` / `ScheduleModule.forRoot()`, which this module never calls).
 * `forRoot(options)` and `forRootAsync({ useFactory, inject, imports, ...extras })`; the providers
 * are built by `withManagedJobsParts` (see `managed-jobs.parts.ts`) for both.
 */
@Module({})
export class ManagedJobsModule extends ConfigurableModuleClass {
  /** `forRoot` can see `http.enabled` and `operator.enabled` when the module is built, so it mounts the controllers by them. */
  static forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot({
      ...options,
      controller: options.controller ?? options.http?.enabled,
      operatorApi: options.operatorApi ?? options.operator?.enabled,
    });
  }
}
