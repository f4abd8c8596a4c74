import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  JobEventsPublisher,
  JobRunnerService,
  ManagedJobFilesService,
  ManagedJobsConfigurationError,
  ManagedJobsHealthIndicator,
  ManagedJobsMaintenanceService,
  ManagedSchedulesService,
  ManagedJobsOperatorService,
  ManagedJobsModule,
  managedJobsMigrations,
} from '../../lib/index.js';
import { GATEWAY_STATE } from '../../lib/gateway/gateway.constants.js';
import { createTestDatabase, dialects, tmpDir, type TestDatabase } from '../support/databases.js';
import { createTestApp } from '../support/app.js';
import { connect } from '../realtime/socket-client.js';

/** Every line the app logs, as `level: message`. */
class CapturingLogger extends ConsoleLogger {
  readonly lines: string[] = [];
  override log(message: any, context?: string) {
    this.lines.push(`log: [${context}] ${message}`);
  }
  override warn(message: any, context?: string) {
    this.lines.push(`warn: [${context}] ${message}`);
  }
  override error(message: any, ...rest: any[]) {
    this.lines.push(`error: ${message} ${rest.join(' ')}`);
  }
}

const storage = () => ({ root: tmpDir('wiring') });

describe('module wiring: one rule for forRoot and forRootAsync', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase('sqlite')));
  afterAll(async () => db.drop());

  const open = async (managedJobs: any, opts: Parameters<typeof createTestApp>[1] = {}) => {
    try {
      return await createTestApp(db, { managedJobs, migrate: true, ...opts });
    } catch (error) {
      return error as Error;
    }
  };

  it('fails the boot, naming the extra, when an async factory enables http without controller: true', async () => {
    const failed = await open(ManagedJobsModule.forRootAsync({ useFactory: () => ({ storage: storage(), http: { enabled: true } }) }));
    expect(failed).toBeInstanceOf(ManagedJobsConfigurationError);
    expect((failed as Error).message).toMatch(/http.enabled is true but the bundled controller is not mounted.*controller: true next to useFactory/);
    const contradicted = await open(ManagedJobsModule.forRoot({ storage: storage(), controller: true, http: { enabled: false } }));
    expect(contradicted).toBeInstanceOf(ManagedJobsConfigurationError);
    expect((contradicted as Error).message).toMatch(/controller: true.*http.enabled is false/);
  });

  it('serves the routes with controller: true and http.enabled from the factory, as forRoot does with http.enabled', async () => {
    for (const managedJobs of [
      ManagedJobsModule.forRootAsync({ controller: true, useFactory: async () => ({ storage: storage(), worker: { enabled: false }, http: { enabled: true } }) }),
      ManagedJobsModule.forRoot({ storage: storage(), worker: { enabled: false }, http: { enabled: true } }),
    ]) {
      const app = (await open(managedJobs)) as INestApplication;
      try {
        // No owner on the request: the controller is there and answers 401, not 404.
        await request(app.getHttpServer()).get('/jobs').expect(401);
      } finally {
        await app.close();
      }
    }
  });

  it('turns the gateway on or off from the resolved options, whichever variant built them', async () => {
    const off = (await open(ManagedJobsModule.forRootAsync({ useFactory: () => ({ storage: storage(), broadcasting: { enabled: false } }) }), {
      listen: true,
    })) as INestApplication;
    try {
      expect(off.get(GATEWAY_STATE)).toEqual({ on: false, reason: 'broadcasting.enabled is false' });
      await expect(connect(off)).rejects.toThrow();
    } finally {
      await off.close();
    }
    const on = (await open(ManagedJobsModule.forRootAsync({ useFactory: () => ({ storage: storage() }) }), { listen: true })) as INestApplication;
    try {
      expect(on.get(GATEWAY_STATE)).toEqual({ on: true });
      (await connect(on)).close();
    } finally {
      await on.close();
    }
  });

  it('exports the public services only, not its internal tokens', () => {
    for (const definition of [ManagedJobsModule.forRoot({}), ManagedJobsModule.forRootAsync({ useFactory: () => ({}) })]) {
      expect(definition.exports).toEqual([
        JobRunnerService,
        ManagedSchedulesService,
        ManagedJobsOperatorService,
        ManagedJobFilesService,
        ManagedJobsMaintenanceService,
        JobEventsPublisher,
        ManagedJobsHealthIndicator,
      ]);
    }
  });
});

describe.each(dialects)('start-up checks on %s', (dialect) => {
  let db: TestDatabase;
  beforeEach(async () => (db = await createTestDatabase(dialect)));
  afterEach(async () => db.drop());

  /** Boots the module on the database as it is (no `migrationsRun`): the error it fails with, or null. */
  const bootWithoutMigrations = async (): Promise<Error | null> => {
    const moduleRef = Test.createTestingModule({
      imports: [TypeOrmModule.forRoot({ ...db.typeorm, autoLoadEntities: true } as any), ManagedJobsModule.forRoot({ storage: storage() })],
    });
    return moduleRef.compile().then(
      async (ref) => {
        await ref.close();
        return null;
      },
      (error: Error) => error,
    );
  };

  it('fails the boot with the fix when the migrations have not run, instead of polling a missing table', async () => {
    const type = db.typeorm.type;
    const failure = await bootWithoutMigrations();
    expect(failure).toBeInstanceOf(ManagedJobsConfigurationError);
    expect(failure!.message).toContain(`migrations: managedJobsMigrations('${type}') and migrationsRun: true`);
    expect(failure!.message).toMatch({ sqlite: /no such table/, postgres: /does not exist/, mariadb: /doesn't exist/ }[dialect]);
  });

  // The keyed claim's function exists on PostgreSQL only (ManagedJobsPostgresKeyedClaim1765300000000).
  (dialect === 'postgres' ? it : it.skip)('fails the boot with the fix when the migration of the keyed claim function has not run', async () => {
    const ds = new DataSource({ ...db.typeorm, migrations: managedJobsMigrations('postgres') } as any);
    await ds.initialize();
    await ds.runMigrations();
    // An app upgraded without running the new migration: every table there, the function not.
    await ds.undoLastMigration();
    await ds.destroy();
    const failure = await bootWithoutMigrations();
    expect(failure).toBeInstanceOf(ManagedJobsConfigurationError);
    expect(failure!.message).toContain(`migrations: managedJobsMigrations('postgres') and migrationsRun: true`);
    expect(failure!.message).toMatch(/managed_jobs_claim_keyed.*does not exist/);
  });

  it('logs one line saying what runs, and without an event relay (SQLite) warns once that events stay in-process when the worker is elsewhere', async () => {
    const logger = new CapturingLogger();
    const web = await createTestApp(db, {
      options: { storage: storage(), worker: { enabled: false }, http: { enabled: true }, schedule: { enabled: false } },
      app: { logger },
    });
    await web.close();
    const ours = logger.lines.filter((l) => l.includes('[ManagedJobs]'));
    const startup = ours.filter((l) => l.includes('nestjs-managed-jobs on'));
    expect(startup).toEqual([
      `log: [ManagedJobs] nestjs-managed-jobs on ${dialect}: worker off, gateway on (/managed-jobs), controller on (/jobs), schedule off (schedule.enabled is false).`,
    ]);
    const warnings = ours.filter((l) => l.includes('stay in the process that ran the job'));
    // PostgreSQL and MySQL/MariaDB relay job events between processes; SQLite does not.
    expect(warnings).toHaveLength(dialect === 'sqlite' ? 1 : 0);
    if (dialect === 'sqlite') expect(warnings[0]).toMatch(/^warn: .*worker.enabled: false/);

    const worker = new CapturingLogger();
    const app = await createTestApp(db, { migrate: false, options: { storage: storage(), worker: { concurrency: 3, queues: ['a', 'b'] } }, app: { logger: worker } });
    await app.close();
    expect(worker.lines.filter((l) => l.includes('nestjs-managed-jobs on'))).toEqual([
      `log: [ManagedJobs] nestjs-managed-jobs on ${dialect}: worker on (queues a, b; concurrency 3), gateway on (/managed-jobs), controller off, schedule off (ScheduleModule.forRoot() is not imported).`,
    ]);
    expect(worker.lines.some((l) => l.includes('stay in the process that ran the job'))).toBe(false);
  });
});
