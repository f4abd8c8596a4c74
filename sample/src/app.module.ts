import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { ManagedJobEvents, ManagedJobsModule, managedJobsMigrations, type ManagedJobEvent } from '../../lib/index.js';
import { DemoAuthMiddleware, demoUserId, demoUserOf } from './demo-auth.middleware.js';
import { DemoSignInController } from './demo-sign-in.controller.js';
import { ImportFilesController } from './import-files.controller.js';
import { DemoUser } from './user.js';
import { GenerateReportJob } from './jobs/generate-report.job.js';
import { SyncCrmJob } from './jobs/sync-crm.job.js';
import { ReindexCatalogJob } from './jobs/reindex.job.js';
import { ImportFileJob } from './jobs/import-file.job.js';

const dataDir = process.env.SAMPLE_DATA_DIR ?? join(process.cwd(), 'sample', 'data');

/** Reacts to lifecycle events the way an app would (mail, audit, webhooks...). */
@Injectable()
class JobAuditLog {
  private readonly logger = new Logger('Jobs');
  @OnEvent(ManagedJobEvents.Completed)
  completed({ job }: ManagedJobEvent) {
    this.logger.log(`${job.type} ${job.jobId} completed for ${job.ownerUserId}`);
  }
  @OnEvent(ManagedJobEvents.Failed)
  failed({ job }: ManagedJobEvent) {
    this.logger.warn(`${job.type} ${job.jobId} failed: ${job.failedReason}`);
  }
}

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'better-sqlite3',
      database: join(dataDir, 'jobs.sqlite'),
      autoLoadEntities: true,
      migrations: managedJobsMigrations('better-sqlite3'),
      migrationsRun: true,
    }),
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    ManagedJobsModule.forRoot({
      worker: { concurrency: 4 },
      storage: { root: join(dataDir, 'files') },
      http: { enabled: true },
      // The operator dashboard at /managed-jobs, its API under /managed-jobs/api (and the CLI: npm
      // run jobs-cli). The demo lets the user "admin" in (open /demo/sign-in?user=admin, or send
      // `Authorization: Bearer admin`); a real app checks a role on its own user. `authorize` reads
      // the raw request (not `req.user`): it also decides the dashboard's live socket handshake.
      operator: {
        enabled: true,
        authorize: (req) => demoUserOf(req) === 'admin',
        actor: (req) => String(req.user?.getManagedJobOwnerId() ?? 'unknown'),
      },
      broadcasting: {
        enabled: true,
        // Private rooms: a socket only joins its own user's room. The demo "verifies" the token
        // by taking it as the user id; a real app checks a session cookie or a signed token.
        channelType: 'private',
        authenticate: (socket) => {
          const id = demoUserId(socket.handshake.auth?.token);
          return id ? new DemoUser(id) : null;
        },
      },
    }),
  ],
  controllers: [DemoSignInController, ImportFilesController],
  providers: [GenerateReportJob, SyncCrmJob, ReindexCatalogJob, ImportFileJob, JobAuditLog],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(DemoAuthMiddleware).forRoutes('*');
  }
}
