import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { JOB_STORE } from '../managed-jobs.constants.js';
import type { JobStore } from './job-store.interface.js';

/**
 * Closes the store the module created (LISTEN connections, the SQLite connection), once the
 * application shuts down: `onApplicationShutdown` runs after every `beforeApplicationShutdown`,
 * so after the worker drained and handed its runs back.
 */
@Injectable()
export class JobStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(JOB_STORE) private readonly store: JobStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close().catch(() => undefined);
  }
}
