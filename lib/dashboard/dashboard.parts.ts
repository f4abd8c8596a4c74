import type { Provider, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { DASHBOARD_PATH, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { createDashboardController } from './dashboard.controller.js';

/**
 * The dashboard controller (mounted with the operator API; it answers 404 when
 * `operator.dashboard` is false) and the provider that gives it its path, `/{operator.path}`.
 */
export function dashboardParts(): { controllers: Type<unknown>[]; providers: Provider[] } {
  const controller = createDashboardController();
  return {
    controllers: [controller],
    providers: [
      {
        provide: DASHBOARD_PATH,
        inject: [RESOLVED_OPTIONS],
        useFactory: (options: ResolvedOptions) => {
          Reflect.defineMetadata(PATH_METADATA, options.operator.path, controller);
          return options.operator.path;
        },
      },
    ],
  };
}
