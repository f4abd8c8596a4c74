/**
 * Schedules declared in code (`@ManagedJob({ schedule })`, `forRoot({ schedules })`): checked, then
 * created or updated at boot. Rules:
 * - all are checked before any is written; a bad one fails the boot (`InvalidScheduleError`);
 * - re-declaring an unchanged cron keeps `next_run_at` (so catch-up sees what a restart missed),
 *   and an omitted `enabled` keeps the stored state (an operator's `disable()` survives deploys);
 * - schedules made at run time are left alone;
 * - a row once declared in code, whose job this process has but no longer declares, is removed
 *   (with a warning): the code is the source of truth for declared schedules. A process that does
 *   not register that job (a web app with other providers) never removes it.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { SCHEDULE_UNDECLARED } from '../managed-jobs.messages.js';
import { InvalidScheduleError } from '../errors/schedule.errors.js';
import { JobRegistry } from '../discovery/job-registry.js';
import type { ScheduleDefinition } from '../interfaces/schedule-options.interface.js';
import { saveSchedule } from './managed-schedules.service.js';
import { toScheduleRow } from './schedule-definition.js';
import { ScheduleStore } from './schedule.store.js';

@Injectable()
export class DeclaredSchedules {
  private readonly logger = new Logger('ManagedJobs');

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    private readonly registry: JobRegistry,
    private readonly store: ScheduleStore,
  ) {}

  /** Every declared schedule: the module's `schedules`, then each job's `schedule`. */
  definitions(): ScheduleDefinition[] {
    const fromJobs = this.registry
      .all()
      .filter((job) => job.options.schedule)
      .map((job) => ({ ...job.options.schedule!, name: job.options.schedule!.name ?? job.name, job: job.name }));
    const all = [...(this.options.schedules ?? []), ...fromJobs];
    const seen = new Set<string>();
    for (const def of all) {
      if (seen.has(def.name)) throw new InvalidScheduleError(def.name, 'it is declared twice; give one of them another name.');
      seen.add(def.name);
    }
    return all;
  }

  async sync(): Promise<void> {
    const defs = this.definitions();
    const now = new Date();
    const rows = await Promise.all(defs.map((def) => toScheduleRow(def, this.registry, now, true)));
    for (const row of rows) await saveSchedule(this.store, row);
    const names = new Set(rows.map((row) => row.name));
    const stored = await this.store.rows<{ name: string; job_type: string }>(this.store.sql.declared());
    for (const row of stored) {
      if (names.has(row.name) || !this.registry.get(row.job_type)) continue;
      await this.store.rows(this.store.sql.remove(row.name));
      this.logger.warn(SCHEDULE_UNDECLARED(row.name));
    }
  }
}
