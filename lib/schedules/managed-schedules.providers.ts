import type { Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DeclaredSchedules } from './declared-schedules.js';
import { ManagedSchedulesService } from './managed-schedules.service.js';
import { ScheduleChanges } from './schedule-changes.js';
import { ScheduleTicker } from './schedule-ticker.js';
import { ScheduleStore } from './schedule.store.js';

/** The durable schedules' providers, on the module's data source. */
export function managedSchedulesProviders(dataSource: string | undefined): Provider[] {
  return [
    { provide: ScheduleStore, inject: [getDataSourceToken(dataSource)], useFactory: (ds: DataSource) => new ScheduleStore(ds) },
    ScheduleChanges,
    ManagedSchedulesService,
    DeclaredSchedules,
    ScheduleTicker,
  ];
}
