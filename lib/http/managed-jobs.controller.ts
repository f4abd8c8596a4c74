import { Controller, Delete, Get, Header, HttpCode, HttpException, HttpStatus, Inject, Param, Post, Query, Req, StreamableFile, Type, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { HTTP_CONTROLLER_PATH, JOB_STORE, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import { TOO_MANY_ACTIVE_JOBS } from '../managed-jobs.messages.js';
import type { JobOwner } from '../interfaces/job-owner.interface.js';
import type { JobStore } from '../store/job-store.interface.js';
import { ownerIds } from '../services/job-scope.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { Page } from '../interfaces/dispatch-options.interface.js';
import { JobNotFoundError, UnknownJobError } from '../errors/managed-jobs.errors.js';
import { JobRegistry } from '../discovery/job-registry.js';
import { JobRunnerService } from '../services/job-runner.service.js';
import { ManagedJobFilesService } from '../files/managed-job-files.service.js';
import { attachmentDisposition, safeContentType } from './content-disposition.js';
import { assertJsonRequest, readJsonBody } from './json-body.js';
import { toFileResponse, toJobResponse, type JobFileResponse, type JobResponse } from './job-responses.js';
import { ManagedJobsExceptionFilter } from './managed-jobs-exception.filter.js';
import { ManagedJobsHttpGuard } from './managed-jobs-http.guard.js';
import { ManagedJobsHttpInterceptor } from './managed-jobs-http.interceptor.js';
import { parseDispatchRequest, parseListRequest } from './request-validation.js';
import { resolveRequestOwner } from './request-owner.js';
import { BatchNotFoundError } from '../errors/workflow.errors.js';
import type { BatchRecord } from '../workflows/batch.interfaces.js';

/**
 * Makes the bundled controller class. One class per module registration, so its path (set from
 * the resolved options by the `HTTP_CONTROLLER_PATH` provider, before routes are registered) can
 * differ between apps in one process and may come from `forRootAsync`.
 *
 * Every route acts for the request's owner only (the pair of user and tenant): a job of anyone
 * else is a 404 like a missing one. Stop and retry also answer 404 for a job type not marked
 * `http: true`, so an owner cannot re-run the app's internal jobs. Every `POST` must be JSON
 * (415 otherwise: a cross-site form cannot send one), and no JSON answer may be cached.
 */
const NO_STORE = 'private, no-store';

const batchNotFound = () => new HttpException({ statusCode: 404, error: 'Not Found', message: 'Batch not found.' }, HttpStatus.NOT_FOUND);

export function createManagedJobsController(): Type<unknown> {
  @Controller()
  @UseGuards(ManagedJobsHttpGuard)
  @UseInterceptors(ManagedJobsHttpInterceptor)
  @UseFilters(ManagedJobsExceptionFilter)
  class ManagedJobsController {
    constructor(
      @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
      @Inject(JobRunnerService) private readonly runner: JobRunnerService,
      @Inject(ManagedJobFilesService) private readonly files: ManagedJobFilesService,
      @Inject(JobRegistry) private readonly registry: JobRegistry,
      @Inject(HTTP_CONTROLLER_PATH) readonly path: string,
      @Inject(JOB_STORE) private readonly store: JobStore,
    ) {}

    private owner(req: unknown) {
      return resolveRequestOwner(req, this.options.http.resolveOwner);
    }

    /** The owner's job, if it is of a type this API may control; else the 404 of a missing job. */
    private async controllable(jobId: string, owner: JobOwner): Promise<void> {
      const job = await this.runner.find(jobId, { owner });
      if (!job || !this.registry.get(job.type)?.http) throw new JobNotFoundError(String(jobId));
    }

    /** Fairness: an owner may have at most `http.maxActiveJobsPerOwner` of its own dispatches pending or running. */
    private async assertRoomFor(owner: JobOwner): Promise<void> {
      const max = this.options.http.maxActiveJobsPerOwner;
      if (max === Infinity) return;
      const { ownerUserId, ownerTenantId } = ownerIds({ owner });
      const active = await this.store.countActiveTriggered({ ownerUserId: ownerUserId!, ownerTenantId });
      if (active >= max) throw new HttpException({ statusCode: 429, error: 'Too Many Requests', message: TOO_MANY_ACTIVE_JOBS(max) }, HttpStatus.TOO_MANY_REQUESTS);
    }

    @Get()
    @Header('Cache-Control', NO_STORE)
    async list(@Req() req: unknown, @Query() query: Record<string, unknown>): Promise<Page<JobResponse>> {
      const owner = await this.owner(req);
      const { page, limit, status, type } = parseListRequest(query ?? {});
      const result = await this.runner.list({ owner, page, limit, status, type });
      return { data: result.data.map(toJobResponse), meta: result.meta };
    }

    @Post()
    @HttpCode(202)
    @Header('Cache-Control', NO_STORE)
    async dispatch(@Req() req: unknown): Promise<{ jobId: string }> {
      const owner = await this.owner(req);
      const { type, payload } = parseDispatchRequest(await readJsonBody(req, this.options.http.bodyLimitBytes));
      const job = this.registry.get(type);
      // A job not marked `http: true` answers exactly like one that does not exist.
      if (!job?.http) throw new UnknownJobError(type);
      await this.assertRoomFor(owner);
      const saved = await this.runner.dispatch(job.name, payload, { owner, triggeredBy: owner });
      return { jobId: saved.jobId };
    }

    /** The owner's batch (another owner's is a 404 like a missing one). Declared before `:jobId` routes. */
    @Get('batches/:batchId')
    @Header('Cache-Control', NO_STORE)
    async findBatch(@Req() req: unknown, @Param('batchId') batchId: string): Promise<BatchRecord> {
      const batch = await this.runner.findBatch(batchId, { owner: await this.owner(req) });
      if (!batch) throw batchNotFound();
      return batch;
    }

    /** Cancels the owner's batch: unstarted members stopped, running ones asked to stop, `finally` dispatched. */
    @Delete('batches/:batchId')
    @Header('Cache-Control', NO_STORE)
    async cancelBatch(@Req() req: unknown, @Param('batchId') batchId: string): Promise<BatchRecord> {
      const owner = await this.owner(req);
      try {
        return await this.runner.cancelBatch(batchId, { owner });
      } catch (error) {
        if (error instanceof BatchNotFoundError) throw batchNotFound();
        throw error;
      }
    }

    @Get(':jobId')
    @Header('Cache-Control', NO_STORE)
    async find(@Req() req: unknown, @Param('jobId') jobId: string): Promise<JobResponse> {
      const owner = await this.owner(req);
      const job = await this.runner.find(jobId, { owner });
      if (!job) throw new JobNotFoundError(String(jobId));
      return toJobResponse(job);
    }

    @Delete(':jobId')
    @Header('Cache-Control', NO_STORE)
    async stop(@Req() req: unknown, @Param('jobId') jobId: string): Promise<JobResponse> {
      const owner = await this.owner(req);
      await this.controllable(jobId, owner);
      return toJobResponse(await this.runner.stop(jobId, { owner }));
    }

    @Post(':jobId/retry')
    @HttpCode(202)
    @Header('Cache-Control', NO_STORE)
    async retry(@Req() req: unknown, @Param('jobId') jobId: string): Promise<JobResponse> {
      const owner = await this.owner(req);
      await assertJsonRequest(req);
      await this.controllable(jobId, owner);
      return toJobResponse(await this.runner.retry(jobId, { owner }));
    }

    @Get(':jobId/files')
    @Header('Cache-Control', NO_STORE)
    async listFiles(@Req() req: unknown, @Param('jobId') jobId: string): Promise<{ data: JobFileResponse[] }> {
      const files = await this.files.list(jobId, { owner: await this.owner(req) });
      return { data: files.map(toFileResponse) };
    }

    /**
     * Streams the file, or, when the storage hands downloads off (S3 with `presign`), redirects
     * (302) to a short-lived URL of it: after the owner check in either case, never cached.
     */
    @Get(':jobId/files/:fileId/download')
    @Header('X-Content-Type-Options', 'nosniff')
    @Header('Cache-Control', NO_STORE)
    async download(@Req() req: unknown, @Param('jobId') jobId: string, @Param('fileId') fileId: string): Promise<StreamableFile | Response> {
      const found = await this.files.download(jobId, fileId, { owner: await this.owner(req) });
      if ('url' in found) return new Response(null, { status: 302, headers: { Location: found.url, 'Cache-Control': NO_STORE } });
      const { file, stream, size } = found;
      return new StreamableFile(stream, {
        type: safeContentType(file.mimeType),
        disposition: attachmentDisposition(file.filename),
        length: size ?? undefined,
      });
    }
  }
  return ManagedJobsController;
}
