import { Controller, Delete, Get, Header, HttpCode, Inject, Param, Post, Query, Req, StreamableFile, Type, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { HTTP_CONTROLLER_PATH, RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';
import type { Page } from '../interfaces/dispatch-options.interface.js';
import { JobNotFoundError, UnknownJobError } from '../errors/managed-jobs.errors.js';
import { JobRegistry } from '../discovery/job-registry.js';
import { JobRunnerService } from '../services/job-runner.service.js';
import { ManagedJobFilesService } from '../files/managed-job-files.service.js';
import { attachmentDisposition, safeContentType } from './content-disposition.js';
import { readJsonBody } from './json-body.js';
import { toFileResponse, toJobResponse, type JobFileResponse, type JobResponse } from './job-responses.js';
import { ManagedJobsExceptionFilter } from './managed-jobs-exception.filter.js';
import { ManagedJobsHttpGuard } from './managed-jobs-http.guard.js';
import { ManagedJobsHttpInterceptor } from './managed-jobs-http.interceptor.js';
import { parseDispatchRequest, parseListRequest } from './request-validation.js';
import { resolveRequestOwner } from './request-owner.js';

/**
 * Makes the bundled controller class. One class per module registration, so its path (set from
 * the resolved options by the `HTTP_CONTROLLER_PATH` provider, before routes are registered) can
 * differ between apps in one process and may come from `forRootAsync`.
 *
 * Every route acts for the request's owner only: a job of anyone else is a 404 like a missing one.
 */
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
    ) {}

    private owner(req: unknown) {
      return resolveRequestOwner(req, this.options.http.resolveOwner);
    }

    @Get()
    async list(@Req() req: unknown, @Query() query: Record<string, unknown>): Promise<Page<JobResponse>> {
      const owner = await this.owner(req);
      const { page, limit, status, type } = parseListRequest(query ?? {});
      const result = await this.runner.list({ owner, page, limit, status, type });
      return { data: result.data.map(toJobResponse), meta: result.meta };
    }

    @Post()
    @HttpCode(202)
    async dispatch(@Req() req: unknown): Promise<{ jobId: string }> {
      const owner = await this.owner(req);
      const { type, payload } = parseDispatchRequest(await readJsonBody(req, this.options.http.bodyLimitBytes));
      const job = this.registry.get(type);
      // A job not marked `http: true` answers exactly like one that does not exist.
      if (!job?.http) throw new UnknownJobError(type);
      const saved = await this.runner.dispatch(job.name, payload, { owner, triggeredBy: owner });
      return { jobId: saved.jobId };
    }

    @Get(':jobId')
    async find(@Req() req: unknown, @Param('jobId') jobId: string): Promise<JobResponse> {
      const owner = await this.owner(req);
      const job = await this.runner.find(jobId, { owner });
      if (!job) throw new JobNotFoundError(String(jobId));
      return toJobResponse(job);
    }

    @Delete(':jobId')
    async stop(@Req() req: unknown, @Param('jobId') jobId: string): Promise<JobResponse> {
      return toJobResponse(await this.runner.stop(jobId, { owner: await this.owner(req) }));
    }

    @Post(':jobId/retry')
    @HttpCode(202)
    async retry(@Req() req: unknown, @Param('jobId') jobId: string): Promise<JobResponse> {
      return toJobResponse(await this.runner.retry(jobId, { owner: await this.owner(req) }));
    }

    @Get(':jobId/files')
    async listFiles(@Req() req: unknown, @Param('jobId') jobId: string): Promise<{ data: JobFileResponse[] }> {
      const files = await this.files.list(jobId, { owner: await this.owner(req) });
      return { data: files.map(toFileResponse) };
    }

    @Get(':jobId/files/:fileId/download')
    @Header('X-Content-Type-Options', 'nosniff')
    @Header('Cache-Control', 'private, no-store')
    async download(@Req() req: unknown, @Param('jobId') jobId: string, @Param('fileId') fileId: string): Promise<StreamableFile> {
      const { file, stream, size } = await this.files.open(jobId, fileId, { owner: await this.owner(req) });
      return new StreamableFile(stream, {
        type: safeContentType(file.mimeType),
        disposition: attachmentDisposition(file.filename),
        length: size ?? undefined,
      });
    }
  }
  return ManagedJobsController;
}
