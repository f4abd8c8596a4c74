import type { Provider, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { HTTP_CONTROLLER_PATH, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { createManagedJobsController } from './managed-jobs.controller.js';

/**
 * The controller and the provider that gives it its path. Providers are all built before Nest
 * registers routes (`app.init()`), so a path from `forRootAsync` options is in place in time.
 */
export function managedJobsHttpParts(): { controllers: Type<unknown>[]; providers: Provider[] } {
  const controller = createManagedJobsController();
  return {
    controllers: [controller],
    providers: [
      {
        provide: HTTP_CONTROLLER_PATH,
        inject: [RESOLVED_OPTIONS],
        useFactory: (options: ResolvedOptions) => {
          Reflect.defineMetadata(PATH_METADATA, options.http.path, controller);
          return options.http.path;
        },
      },
    ],
  };
}
