import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ManagedJobsModule, managedJobsMigrations, type ManagedJobsModuleOptions } from '../../lib/index.js';
import { tmpDir, type TestDatabase } from '../support/databases.js';

export interface HttpAppOptions {
  providers?: any[];
  imports?: any[];
  options?: ManagedJobsModuleOptions;
  /** Replaces `ManagedJobsModule.forRoot(...)`, e.g. with a `forRootAsync`. */
  managedJobs?: any;
  app?: NestApplicationOptions;
  configure?: (app: INestApplication) => void;
  migrate?: boolean;
}

/**
 * A Nest app with the controller on, whose `req.user` comes from the `x-user` / `x-tenant`
 * headers (a stand-in for the app's auth middleware).
 */
export async function createHttpApp(db: TestDatabase, opts: HttpAppOptions = {}): Promise<INestApplication> {
  const managedJobs =
    opts.managedJobs ??
    ManagedJobsModule.forRoot({
      storage: { root: tmpDir('storage') },
      ...opts.options,
      http: { enabled: true, ...opts.options?.http },
      worker: { pollIntervalMs: 200, heartbeatIntervalMs: 200, reaperIntervalMs: 500, ...opts.options?.worker },
    });
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        ...db.typeorm,
        autoLoadEntities: true,
        migrations: managedJobsMigrations(db.typeorm.type),
        migrationsRun: opts.migrate ?? true,
        ...(db.dialect === 'postgres' ? { extra: { max: 10 } } : {}),
      } as any),
      EventEmitterModule.forRoot({ wildcard: true }),
      managedJobs,
      ...(opts.imports ?? []),
    ],
    providers: opts.providers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'], ...opts.app });
  app.use((req: any, _res: any, next: () => void) => {
    const id = req.headers['x-user'];
    if (id) req.user = { id, tenantId: req.headers['x-tenant'] ?? null };
    next();
  });
  opts.configure?.(app);
  app.enableShutdownHooks();
  await app.init();
  return app;
}

export const asA = { 'x-user': 'user-a', 'x-tenant': 'tenant-1' };
export const asB = { 'x-user': 'user-b', 'x-tenant': 'tenant-2' };
/** Same user id as A, other tenant: must not see A's jobs either. */
export const asA2 = { 'x-user': 'user-a', 'x-tenant': 'tenant-2' };
