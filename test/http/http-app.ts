import type { INestApplication } from '@nestjs/common';
import type { TestDatabase } from '../support/databases.js';
import { createTestApp, type TestAppOptions } from '../support/app.js';

export type HttpAppOptions = Omit<TestAppOptions, 'listen'>;

/**
 * A test app with the controller on, whose `req.user` comes from the `x-user` / `x-tenant`
 * headers (a stand-in for the app's auth middleware).
 */
export async function createHttpApp(db: TestDatabase, opts: HttpAppOptions = {}): Promise<INestApplication> {
  return createTestApp(db, {
    ...opts,
    options: { ...opts.options, http: { enabled: true, ...opts.options?.http } },
    configure: (app) => {
      app.use((req: any, _res: any, next: () => void) => {
        const id = req.headers['x-user'];
        if (id) req.user = { id, tenantId: req.headers['x-tenant'] ?? null };
        next();
      });
      opts.configure?.(app);
    },
  });
}

export const asA = { 'x-user': 'user-a', 'x-tenant': 'tenant-1' };
export const asB = { 'x-user': 'user-b', 'x-tenant': 'tenant-2' };
/** Same user id as A, other tenant: must not see A's jobs either. */
export const asA2 = { 'x-user': 'user-a', 'x-tenant': 'tenant-2' };
