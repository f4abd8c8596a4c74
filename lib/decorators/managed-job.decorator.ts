import { SetMetadata } from '@nestjs/common';
import { MANAGED_JOB_METADATA } from '../managed-jobs.constants.js';
import type { ManagedJobOptions } from '../interfaces/managed-job-options.interface.js';

/** Marks a provider as a managed job. The provider must have `handle(ctx)`. */
export const ManagedJob = (options: ManagedJobOptions = {}): ClassDecorator => SetMetadata(MANAGED_JOB_METADATA, options);
