import type { JobOwner } from '../../lib/index.js';

/** The sample's stand-in for an authenticated user: what your User entity would implement. */
export class DemoUser implements JobOwner {
  constructor(
    readonly id: string,
    readonly tenantId: string | null = null,
  ) {}
  getManagedJobOwnerId() {
    return this.id;
  }
  getManagedJobTenantId() {
    return this.tenantId;
  }
}
