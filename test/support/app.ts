import { INestApplication, NestApplicationOptions, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ManagedJobsModule, managedJobsMigrations, type ManagedJobsModuleOptions } from '../../lib/index.js';
import type { TestDatabase } from './databases.js';
import { tmpDir } from './databases.js';

export interface TestAppOptions {
  providers?: Array<Provider | Type<unknown>>;
  options?: ManagedJobsModuleOptions;
  /** Replaces `ManagedJobsModule.forRoot(...)`, e.g. with a `forRootAsync`. */
  managedJobs?: any;
  /** Run the shipped migrations at start (the first app on a database). @default true */
  migrate?: boolean;
  imports?: any[];
  app?: NestApplicationOptions;
  /** Called before the app starts (middleware, pipes...). */
  configure?: (app: INestApplication) => void;
  listen?: boolean;
}

/** A real Nest app on a real database with the module, like a user would build it. */
export async function createTestApp(db: TestDatabase, opts: TestAppOptions = {}): Promise<INestApplication> {
  const managedJobs =
    opts.managedJobs ??
    ManagedJobsModule.forRoot({
      storage: { root: tmpDir('storage') },
      ...opts.options,
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
  opts.configure?.(app);
  app.enableShutdownHooks();
  if (opts.listen) await app.listen(0, '127.0.0.1');
  else await app.init();
  return app;
}
