import { Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MANAGED_JOB_METADATA } from '../managed-jobs.constants.js';
import type { ManagedJobOptions } from '../interfaces/managed-job-options.interface.js';

@Injectable()
export class ManagedJobMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getJobOptions(target: Type<unknown> | Function): ManagedJobOptions | undefined {
    return this.reflector.get<ManagedJobOptions | undefined>(MANAGED_JOB_METADATA, target);
  }
}
