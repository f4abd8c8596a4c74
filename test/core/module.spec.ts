import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
import {
  JobRunnerService,
  JobStatus,
  ManagedJob,
  ManagedJobsConfigurationError,
  ManagedJobsModule,
  managedJobsMigrations,
  type JobContext,
} from '../../lib/index.js';
import { resolveOptions } from '../../lib/managed-jobs.options.js';
import { createTestDatabase, tmpDir, waitFor, type TestDatabase } from '../support/databases.js';

@ManagedJob({ name: 'same' })
class First {
  handle() {}
}
@ManagedJob({ name: 'same' })
class Second {
  handle() {}
}
@ManagedJob()
class NoHandle {}

@Injectable()
class Greeting {
  text = 'hello';
}
@ManagedJob({ queue: 'mail' })
class DefaultNamedJob {
  constructor(private readonly greeting: Greeting) {}
  handle(ctx: JobContext<{ to: string }>) {
    return `${this.greeting.text} ${ctx.payload.to}`;
  }
}

async function boot(db: TestDatabase, providers: any[], async = false) {
  const typeorm = TypeOrmModule.forRoot({ ...db.typeorm, autoLoadEntities: true, migrations: managedJobsMigrations(db.typeorm.type), migrationsRun: true } as any);
  const managed = async
    ? ManagedJobsModule.forRootAsync({
        useFactory: async () => ({ worker: { queues: ['mail', 'default'], pollIntervalMs: 100 }, storage: { root: tmpDir('s') } }),
      })
    : ManagedJobsModule.forRoot({ worker: { pollIntervalMs: 100 }, storage: { root: tmpDir('s') } });
  const ref = await Test.createTestingModule({ imports: [typeorm, EventEmitterModule.forRoot(), managed], providers }).compile();
  const app = ref.createNestApplication({ logger: false });
  try {
    await app.init();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

describe('ManagedJobsModule bootstrap', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase('sqlite')));
  afterAll(async () => db.drop());

  it('fails the boot on two jobs with one name, naming both classes', async () => {
    await expect(boot(db, [First, Second])).rejects.toThrow(/Two managed jobs are named "same" \(First and Second\)/);
  });

  it('fails the boot on a @ManagedJob without handle()', async () => {
    const attempt = boot(db, [NoHandle]);
    await expect(attempt).rejects.toBeInstanceOf(ManagedJobsConfigurationError);
    await expect(attempt).rejects.toThrow('NoHandle is decorated with @ManagedJob() but has no handle(ctx) method.');
  });

  it('works through forRootAsync, names a job after its class, injects its dependencies and honours its queue', async () => {
    const app = await boot(db, [Greeting, DefaultNamedJob], true);
    try {
      const runner = app.get(JobRunnerService);
      const job = await runner.dispatch('DefaultNamedJob', { to: 'Ada' }, { ownerId: 7 });
      expect(job.queue).toBe('mail');
      expect(job.ownerUserId).toBe('7');
      const done = await waitFor(async () => {
        const j = await runner.find(job.jobId);
        return j?.status === JobStatus.Completed ? j : null;
      });
      expect(done.result).toBe('hello Ada');
    } finally {
      await app.close();
    }
  });

  it('rejects options that cannot work', () => {
    expect(() => resolveOptions({ worker: { leaseMs: 500, heartbeatIntervalMs: 1000 } })).toThrow(
      /leaseMs \(500\) must be at least twice worker.heartbeatIntervalMs/,
    );
    expect(() => resolveOptions({ worker: { concurrency: 0 } })).toThrow(/worker.concurrency must be a positive number/);
    expect(() => resolveOptions({ schedule: { expireFilesAt: '25:00' } })).toThrow(/HH:mm/);
    expect(() => resolveOptions({ retentionDays: 1.5 })).toThrow(/retentionDays must be an integer/);
    expect(() => resolveOptions({ broadcasting: { channelType: 'private' } })).toThrow(/needs broadcasting.authenticate/);
    expect(resolveOptions({}).worker).toMatchObject({ enabled: true, concurrency: 10, queues: ['default'], leaseMs: 30000 });
  });
});
