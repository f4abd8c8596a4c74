import { Injectable } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ManagedJobEntity } from '../entities/managed-job.entity.js';
import { InvalidScheduleError, ScheduleNotFoundError } from '../errors/schedule.errors.js';
import { JobRegistry } from '../discovery/job-registry.js';
import type { DispatchOptions } from '../interfaces/dispatch-options.interface.js';
import type { ScheduleDefinition, ScheduleRecord } from '../interfaces/schedule-options.interface.js';
import { JobRunnerService } from '../services/job-runner.service.js';
import { ownerIds } from '../services/job-scope.js';
import { validatePayload } from '../services/payload-validator.js';
import { JobWorker } from '../worker/job-worker.js';
import { parseCron } from './cron.js';
import { checkScheduleName, toScheduleRow } from './schedule-definition.js';
import { ScheduleChanges } from './schedule-changes.js';
import { payloadOf, toScheduleRecord, type ScheduleRow } from './schedule-row.js';
import type { ScheduleRowInput } from './sql/schedule-sql.interface.js';
import { ScheduleStore } from './schedule.store.js';
import { toUtcText } from './utc-text.js';

const A_SCHEDULE = 'the name belongs to a cron schedule.';

/**
 * Durable schedules, stored in the database and fired exactly once per occurrence by whichever
 * process's worker gets there first. Changes take effect in every process within a second.
 */
@Injectable()
export class ManagedSchedulesService {
  constructor(
    private readonly store: ScheduleStore,
    private readonly registry: JobRegistry,
    private readonly runner: JobRunnerService,
    private readonly worker: JobWorker,
    private readonly changes: ScheduleChanges,
  ) {}

  /**
   * Create or update a schedule. An unchanged cron and time zone keep the planned next run; a new
   * one starts from now. Throws `InvalidScheduleError` (nothing written) for a bad cron, time zone
   * or policy, and `UnknownJobError` / `InvalidJobPayloadError` for the job and its payload.
   */
  async upsert(def: ScheduleDefinition): Promise<ScheduleRecord> {
    const record = await saveSchedule(this.store, await toScheduleRow(def, this.registry, new Date(), false));
    this.changes.changed();
    return record;
  }

  /** Delete a schedule (or a one-off's name): it fires no more. Unknown names are ignored. */
  async remove(name: string): Promise<void> {
    await this.store.rows(this.store.sql.remove(String(name)));
    this.changes.changed();
  }

  /** Every cron schedule, by name. */
  async list(): Promise<ScheduleRecord[]> {
    return (await this.store.rows<ScheduleRow>(this.store.sql.list())).map(toScheduleRecord);
  }

  /** The cron schedule, or null. */
  async find(name: string): Promise<ScheduleRecord | null> {
    const row = await this.store.one<ScheduleRow>(this.store.sql.find(String(name)));
    return row && row.kind === 'cron' ? toScheduleRecord(row) : null;
  }

  /** Fire again from the next occurrence after now (missed ones while disabled are not caught up). */
  async enable(name: string): Promise<ScheduleRecord> {
    const row = await this.cronRow(name);
    const next = parseCron(row.name, row.cron ?? '', row.timezone).next(new Date());
    return this.changed(await this.store.one<ScheduleRow>(this.store.sql.enable(row.name, toUtcText(next))), name);
  }

  /** Stop firing; `nextRunAt` becomes null. */
  async disable(name: string): Promise<ScheduleRecord> {
    return this.changed(await this.store.one<ScheduleRow>(this.store.sql.disable(String(name))), name);
  }

  /** Dispatch the schedule's job now, once (enabled or not); its next run is unchanged. */
  async trigger(name: string): Promise<ManagedJobEntity> {
    const row = await this.cronRow(name);
    const job = await this.store.transaction(async (manager) => {
      const dispatched = await this.runner.dispatch(row.job_type, payloadOf(row), {
        ownerId: row.owner_user_id,
        tenantId: row.owner_tenant_id,
        manager,
      });
      await this.store.rows(this.store.sql.setLastJob(row.name, dispatched.jobId, true), manager);
      return dispatched;
    });
    this.worker.wake(true);
    return job;
  }

  /**
   * Run `job` once at `at`, under a unique `name`: it is dispatched now as a delayed job, and a
   * second call with the same name returns that job (whatever its status) and writes nothing. The
   * name is held until `remove(name)`. Throws `InvalidScheduleError` when a cron schedule has the name.
   */
  async once(name: string, at: Date, job: Type | string, payload: unknown, options: DispatchOptions = {}): Promise<ManagedJobEntity> {
    checkScheduleName(name);
    if (!(at instanceof Date) || isNaN(at.getTime())) throw new InvalidScheduleError(String(name), '`at` must be a valid Date.');
    const registered = this.registry.resolve(job);
    const json = await validatePayload(registered.name, registered.payload, payload);
    const owner = ownerIds(options);
    // Two rounds at most: the second after dropping a name whose job was pruned.
    for (let round = 0; round < 3; round++) {
      const existing = await this.store.one<ScheduleRow>(this.store.sql.find(name), options.manager);
      if (existing) {
        if (existing.kind !== 'once') throw new InvalidScheduleError(name, A_SCHEDULE);
        const found = existing.last_job_id ? await this.runner.find(existing.last_job_id) : null;
        if (found) return found;
        await this.store.rows(this.store.sql.deleteOnce(name, existing.last_job_id), options.manager);
        continue;
      }
      const create = async (manager: EntityManager) => {
        const claimed = await this.store.one(
          this.store.sql.insertOnce({ name, jobType: registered.name, payload: json, ...owner, at: toUtcText(at) }),
          manager,
        );
        if (!claimed) return null;
        const dispatched = await this.runner.dispatch(registered.name, payload, { ...options, delayMs: undefined, availableAt: at, manager });
        await this.store.rows(this.store.sql.setLastJob(name, dispatched.jobId, false), manager);
        return dispatched;
      };
      const created = options.manager ? await create(options.manager) : await this.store.transaction(create);
      if (created) {
        if (!options.manager) this.worker.wake(true);
        return created;
      }
    }
    throw new InvalidScheduleError(name, 'the name is being taken and released concurrently; try again.');
  }

  private async cronRow(name: string): Promise<ScheduleRow> {
    const row = await this.store.one<ScheduleRow>(this.store.sql.find(String(name)));
    if (!row || row.kind !== 'cron') throw new ScheduleNotFoundError(String(name));
    return row;
  }

  private changed(row: ScheduleRow | null, name: string): ScheduleRecord {
    if (!row) throw new ScheduleNotFoundError(String(name));
    this.changes.changed();
    return toScheduleRecord(row);
  }
}

/** Writes a checked schedule row (run-time upserts and declared schedules at boot). */
export async function saveSchedule(store: ScheduleStore, row: ScheduleRowInput): Promise<ScheduleRecord> {
  const saved = await store.one<ScheduleRow>(store.sql.upsert(row));
  if (!saved) throw new InvalidScheduleError(row.name, 'the name belongs to a one-off job (once()); remove() it first.');
  return toScheduleRecord(saved);
}
