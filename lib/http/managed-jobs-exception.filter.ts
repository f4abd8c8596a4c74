import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  InvalidJobPayloadError,
  JobFileNotFoundError,
  JobNotFoundError,
  JobStateConflictError,
  UnknownJobError,
} from '../errors/managed-jobs.errors.js';

type Mapped = JobNotFoundError | JobFileNotFoundError | JobStateConflictError | InvalidJobPayloadError | UnknownJobError;

/**
 * Library errors → HTTP answers: `InvalidJobPayloadError` and `UnknownJobError` 400 (with the
 * violations), `JobNotFoundError` and `JobFileNotFoundError` 404, `JobStateConflictError` 409.
 * The bundled controller uses it; use it in your own controllers that call `JobRunnerService`
 * (`@UseFilters(ManagedJobsExceptionFilter)`, or `APP_FILTER`), or those errors become 500s.
 * Not-found bodies are generic, so a job of another owner and a job that does not exist read
 * exactly the same. Other errors (including Nest's own `HttpException`s, such as the 413 of an
 * oversized body) pass through to Nest.
 */
@Catch(JobNotFoundError, JobFileNotFoundError, JobStateConflictError, InvalidJobPayloadError, UnknownJobError)
export class ManagedJobsExceptionFilter implements ExceptionFilter<Mapped> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: Mapped, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    const [status, body] = this.map(error);
    this.adapterHost.httpAdapter.reply(response, { statusCode: status, ...body }, status);
  }

  private map(error: Mapped): [number, Record<string, unknown>] {
    if (error instanceof JobNotFoundError) return [HttpStatus.NOT_FOUND, { error: 'Not Found', message: 'Job not found.' }];
    if (error instanceof JobFileNotFoundError) return [HttpStatus.NOT_FOUND, { error: 'Not Found', message: 'File not found.' }];
    if (error instanceof JobStateConflictError) return [HttpStatus.CONFLICT, { error: 'Conflict', message: error.message, status: error.status }];
    if (error instanceof InvalidJobPayloadError) {
      return [HttpStatus.BAD_REQUEST, { error: 'Bad Request', message: 'The payload is invalid.', violations: error.violations }];
    }
    return [HttpStatus.BAD_REQUEST, { error: 'Bad Request', message: 'Unknown job type.', violations: [{ property: 'type', constraints: { isDispatchable: 'type must name a job that can be dispatched over HTTP' } }] }];
  }
}
