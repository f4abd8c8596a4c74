import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { MODULE_OPTIONS } from './managed-jobs.constants.js';
import { withManagedJobsParts } from './managed-jobs.parts.js';
import type { ManagedJobsModuleExtras, ManagedJobsModuleOptions } from './interfaces/managed-jobs-options.interface.js';

/**
 * `forRoot(options)` / `forRootAsync({ imports, inject, useFactory })`. What must be known to
 * build the providers (data source name, global, which optional parts to mount) is an "extra",
 * outside the async factory, as `@nestjs/typeorm` keeps `name` outside its factory. The extras are
 * applied here, in one place (`withManagedJobsParts`), for both variants.
 */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<ManagedJobsModuleOptions>({ moduleName: 'ManagedJobs', optionsInjectionToken: MODULE_OPTIONS })
    .setClassMethodName('forRoot')
    .setExtras<ManagedJobsModuleExtras>(
      { dataSource: undefined, isGlobal: true, controller: undefined, gateway: undefined, operatorApi: undefined },
      (definition, extras): DynamicModule => withManagedJobsParts(definition, extras, MODULE_OPTIONS),
    )
    .build();
