import { JobRunnerService } from '../services/job-runner.service.js';
import {
  BadRequestException,
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Type,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { OPERATOR_API_PATH, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import { JobNotFoundError, JobStateConflictError, ManagedJobsError } from '../errors/managed-jobs.errors.js';
import { ScheduleNotFoundError } from '../errors/schedule.errors.js';
import { ManagedSchedulesService } from '../schedules/managed-schedules.service.js';
import { ManagedJobsExceptionFilter } from '../http/managed-jobs-exception.filter.js';
import { readJsonBody } from '../http/json-body.js';
import { ManagedJobsOperatorService } from './managed-jobs-operator.service.js';
import { OperatorApiGuard } from './operator-api.guard.js';
import { toJobDetails, toOperatorJob } from './operator-responses.js';
import type { Audit } from './operator.types.js';

const NO_STORE = 'private, no-store';
/** Largest JSON body of an operator request (a list of job ids fits). */
const BODY_LIMIT = 1024 * 1024;

/**
 * The operator HTTP API, mounted at `/{operator.path}/api` when `operator.enabled`. Unscoped (it
 * sees every owner's jobs), so every route is behind `operator.authorize(req)` (403, no data),
 * and every `POST` must be JSON (415 otherwise, before anything is read or written: a cross-site
 * form cannot trigger one). Bodies: the service's filters plus `reason`; the actor comes from
 * `operator.actor(req)`. Bad input is a 400 with the reason; a missing job 404; a job in the wrong
 * state 409. `GET batches/:batchId` answers a batch of any owner.
 */
export function createOperatorApiController(): Type<unknown> {
  @Controller()
  @UseGuards(OperatorApiGuard)
  @UseFilters(ManagedJobsExceptionFilter)
  class ManagedJobsOperatorController {
    constructor(
      @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
      @Inject(ManagedJobsOperatorService) private readonly operator: ManagedJobsOperatorService,
      @Inject(ManagedSchedulesService) private readonly schedules: ManagedSchedulesService,
      @Inject(OPERATOR_API_PATH) readonly path: string,
      @Inject(JobRunnerService) private readonly runner: JobRunnerService,
    ) {}

    /** The JSON body (415 unless JSON) and the audit of the request. */
    private async body(req: any): Promise<{ body: Record<string, any>; audit: Audit }> {
      const raw = await readJsonBody(req, BODY_LIMIT);
      if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) throw new BadRequestException('The body must be a JSON object.');
      const body = (raw ?? {}) as Record<string, any>;
      if (body.reason !== undefined && typeof body.reason !== 'string') throw new BadRequestException('reason must be a string.');
      const actor = this.options.operator.actor?.(req);
      return { body, audit: { actor: actor ?? undefined, reason: body.reason } };
    }

    @Get('stats')
    @Header('Cache-Control', NO_STORE)
    stats() {
      return this.operator.stats();
    }

    /** Completed and failed jobs per minute (`?minutes=`, default 60): the dashboard's chart. */
    @Get('throughput')
    @Header('Cache-Control', NO_STORE)
    throughput(@Query('minutes') minutes?: string) {
      return invalidAs400(() => this.operator.throughput(minutes === undefined ? undefined : (minutes as unknown as number)));
    }

    @Get('jobs')
    @Header('Cache-Control', NO_STORE)
    async jobs(@Query() q: Record<string, any>) {
      const page = await invalidAs400(() =>
        this.operator.listJobs({
          status: q.status,
          queue: q.queue,
          type: q.type,
          ownerId: q.ownerId,
          tenantId: q.tenantId,
          batchId: q.batchId,
          search: q.search,
          createdFrom: q.createdFrom,
          createdTo: q.createdTo,
          page: q.page,
          limit: q.limit,
        }),
      );
      return { data: page.data.map(toOperatorJob), meta: page.meta };
    }

    @Post('jobs/retry')
    @HttpCode(200)
    @Header('Cache-Control', NO_STORE)
    async retry(@Req() req: any) {
      const { body, audit } = await this.body(req);
      return invalidAs400(() => this.operator.retry({ jobIds: body.jobIds, status: body.status, type: body.type, queue: body.queue }, audit));
    }

    @Post('jobs/delete')
    @HttpCode(200)
    @Header('Cache-Control', NO_STORE)
    async delete(@Req() req: any) {
      const { body, audit } = await this.body(req);
      return invalidAs400(() =>
        this.operator.delete({ jobIds: body.jobIds, status: body.status, type: body.type, queue: body.queue, finishedBefore: body.finishedBefore }, audit),
      );
    }

    @Get('jobs/:jobId')
    @Header('Cache-Control', NO_STORE)
    async job(@Param('jobId') jobId: string) {
      const details = await this.operator.findJob(jobId);
      if (!details) throw new JobNotFoundError(String(jobId));
      return toJobDetails(details);
    }

    @Post('jobs/:jobId/stop')
    @HttpCode(200)
    @Header('Cache-Control', NO_STORE)
    async stop(@Req() req: any, @Param('jobId') jobId: string) {
      const { audit } = await this.body(req);
      return toOperatorJob(await this.operator.stop(jobId, audit));
    }

    @Post('queues/:queue/:action')
    @HttpCode(200)
    @Header('Cache-Control', NO_STORE)
    async queue(@Req() req: any, @Param('queue') queue: string, @Param('action') action: string) {
      if (action !== 'pause' && action !== 'resume' && action !== 'clear') throw new NotFoundException();
      const { audit } = await this.body(req);
      if (action === 'clear') return invalidAs400(() => this.operator.clearQueue(queue, audit));
      await invalidAs400(() => (action === 'pause' ? this.operator.pauseQueue(queue, audit) : this.operator.resumeQueue(queue, audit)));
      return { queue, paused: action === 'pause' };
    }

    @Get('workers')
    @Header('Cache-Control', NO_STORE)
    async workers() {
      return { data: await this.operator.workers() };
    }

    /** A batch of any owner (lib/workflows); 404 when there is none. */
    @Get('batches/:batchId')
    @Header('Cache-Control', NO_STORE)
    async batch(@Param('batchId') batchId: string) {
      const batch = await this.runner.findBatch(batchId);
      if (!batch) throw new NotFoundException('Batch not found.');
      return batch;
    }

    @Get('schedules')
    @Header('Cache-Control', NO_STORE)
    async listSchedules() {
      return { data: await this.schedules.list() };
    }

    @Post('schedules/:name/:action')
    @HttpCode(200)
    @Header('Cache-Control', NO_STORE)
    async schedule(@Req() req: any, @Param('name') name: string, @Param('action') action: string) {
      if (action !== 'enable' && action !== 'disable' && action !== 'trigger') throw new NotFoundException();
      const { audit } = await this.body(req);
      try {
        if (action === 'trigger') {
          const job = await this.schedules.trigger(name);
          await this.operator.record('schedule.trigger', name, 1, audit);
          return { jobId: job.jobId, job: toOperatorJob(job) };
        }
        const record = action === 'enable' ? await this.schedules.enable(name) : await this.schedules.disable(name);
        await this.operator.record(`schedule.${action}`, name, 1, audit);
        return record;
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) throw new NotFoundException('Schedule not found.');
        throw error;
      }
    }

    @Get('audit')
    @Header('Cache-Control', NO_STORE)
    audit(@Query() q: Record<string, any>) {
      return invalidAs400(() => this.operator.auditLog({ page: q.page, limit: q.limit }));
    }
  }
  return ManagedJobsOperatorController;
}

/** The service's validation errors are the client's mistake: 400 with the reason. */
async function invalidAs400<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ManagedJobsError && !(error instanceof JobNotFoundError) && !(error instanceof JobStateConflictError) && error.constructor === ManagedJobsError) {
      throw new BadRequestException(error.message);
    }
    throw error;
  }
}
