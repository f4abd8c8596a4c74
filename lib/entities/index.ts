import { ManagedJobAttemptEntity } from './managed-job-attempt.entity.js';
import { ManagedJobFileEntity } from './managed-job-file.entity.js';
import { ManagedJobScheduleEntity } from './managed-job-schedule.entity.js';
import { ManagedJobStepEntity } from './managed-job-step.entity.js';
import { ManagedJobEntity } from './managed-job.entity.js';

export { ManagedJobAttemptEntity, ManagedJobEntity, ManagedJobFileEntity, ManagedJobStepEntity, ManagedJobScheduleEntity };
export type { AttemptOutcome } from './managed-job-attempt.entity.js';

/** Every entity the module needs, for an app that lists entities by hand instead of `autoLoadEntities`. */
export const managedJobsEntities = [ManagedJobEntity, ManagedJobStepEntity, ManagedJobAttemptEntity, ManagedJobFileEntity, ManagedJobScheduleEntity];
