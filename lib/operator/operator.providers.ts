import type { Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditTrail } from './audit-trail.js';
import { JobLogWriter } from './job-log.writer.js';
import { JobWaiter } from './job-waiter.js';
import { ManagedJobsOperatorService } from './managed-jobs-operator.service.js';
import { OperatorStore } from './operator.store.js';

/** The operator's providers, on the module's data source (the API controller is mounted apart: operator-api.parts.ts). */
export function operatorProviders(dataSource: string | undefined): Provider[] {
  return [
    { provide: OperatorStore, inject: [getDataSourceToken(dataSource)], useFactory: (ds: DataSource) => new OperatorStore(ds) },
    AuditTrail,
    JobLogWriter,
    JobWaiter,
    ManagedJobsOperatorService,
  ];
}
