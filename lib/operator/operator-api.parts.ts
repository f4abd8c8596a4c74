import type { Provider, Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { OPERATOR_API_PATH, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { createOperatorApiController } from './operator-api.controller.js';
import { OperatorApiGuard } from './operator-api.guard.js';

/** The operator API controller and the provider that gives it its path (`/{operator.path}/api`), as the bundled controller's. */
export function operatorApiParts(): { controllers: Type<unknown>[]; providers: Provider[] } {
  const controller = createOperatorApiController();
  return {
    controllers: [controller],
    providers: [
      OperatorApiGuard,
      {
        provide: OPERATOR_API_PATH,
        inject: [RESOLVED_OPTIONS],
        useFactory: (options: ResolvedOptions) => {
          const path = `${options.operator.path}/api`;
          Reflect.defineMetadata(PATH_METADATA, path, controller);
          return path;
        },
      },
    ],
  };
}
