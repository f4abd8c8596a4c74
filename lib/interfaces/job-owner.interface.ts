/** Implemented by whatever owns jobs in the app, typically the User entity. */
export interface JobOwner {
  getManagedJobOwnerId(): string | number;
  /** The owner's tenant, or null in single-tenant apps. */
  getManagedJobTenantId?(): string | number | null;
}

/** An owner given either as a `JobOwner` or as plain ids. */
export interface OwnerRef {
  owner?: JobOwner | null;
  ownerId?: string | number | null;
  tenantId?: string | number | null;
}

/** Limits a `JobRunnerService` call to one owner's jobs. A job of another owner is "not found". */
export type JobScope = OwnerRef;
