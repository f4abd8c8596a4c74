import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { JOB_TELEMETRY } from '../managed-jobs.constants.js';
import type { JobTelemetry } from './job-telemetry.js';

/** Stops observing the queue before the store closes (no collection may read a closed store). */
@Injectable()
export class JobTelemetryCloser implements BeforeApplicationShutdown {
  constructor(@Inject(JOB_TELEMETRY) private readonly telemetry: JobTelemetry) {}

  beforeApplicationShutdown(): void {
    this.telemetry.close();
  }
}
