import { ManagedJobAttemptEntity } from './managed-job-attempt.entity.js';
import { ManagedJobFileEntity } from './managed-job-file.entity.js';
import { ManagedJobScheduleEntity } from './managed-job-schedule.entity.js';
import { ManagedJobStepEntity } from './managed-job-step.entity.js';
import { ManagedJobEntity } from './managed-job.entity.js';
import { ManagedJobQueueEntity } from './managed-job-queue.entity.js';
import { ManagedJobWorkerEntity } from './managed-job-worker.entity.js';
import { ManagedJobAuditEntity } from './managed-job-audit.entity.js';
import { ManagedJobLogEntity } from './managed-job-log.entity.js';
import { ManagedJobBatchEntity } from './managed-job-batch.entity.js';
import { ManagedJobDependencyEntity } from './managed-job-dependency.entity.js';

export { ManagedJobAttemptEntity, ManagedJobEntity, ManagedJobFileEntity, ManagedJobStepEntity, ManagedJobScheduleEntity };
export { ManagedJobQueueEntity, ManagedJobWorkerEntity, ManagedJobAuditEntity, ManagedJobLogEntity };
export { ManagedJobBatchEntity, ManagedJobDependencyEntity };
export type { AttemptOutcome } from './managed-job-attempt.entity.js';

/** Every entity the module needs, for an app that lists entities by hand instead of `autoLoadEntities`. */
export const managedJobsEntities = [ManagedJobEntity, ManagedJobStepEntity, ManagedJobAttemptEntity, ManagedJobFileEntity, ManagedJobScheduleEntity,
  ManagedJobQueueEntity, ManagedJobWorkerEntity, ManagedJobAuditEntity, ManagedJobLogEntity,
  ManagedJobBatchEntity, ManagedJobDependencyEntity];
