/** Implemented by whatever owns jobs in the app, typically the User entity. */
export interface JobOwner {
  getManagedJobOwnerId(): string | number;
  /** The owner's tenant, or null in single-tenant apps. */
  getManagedJobTenantId?(): string | number | null;
}

/** A plain owner, such as a typical `req.user`: its `id` and, in multi-tenant apps, `tenantId`. */
export interface PlainJobOwner {
  id: string | number;
  tenantId?: string | number | null;
}

/** Every place that takes an owner (dispatch, scopes, `resolveOwner`, `authenticate`) takes either shape. */
export type JobOwnerLike = JobOwner | PlainJobOwner;

/** An owner given either as a `JobOwner` / `{ id, tenantId }` or as plain ids. */
export interface OwnerRef {
  owner?: JobOwnerLike | null;
  ownerId?: string | number | null;
  tenantId?: string | number | null;
}

/** Limits a `JobRunnerService` call to one owner's jobs. A job of another owner is "not found". */
export type JobScope = OwnerRef;
