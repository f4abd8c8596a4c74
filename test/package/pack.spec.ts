import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../support/databases.js';

/**
 * What a user gets from `npm pack`: the tarball, unpacked as an installed dependency of an app
 * (its peers resolve from this repository's node_modules, as they would from the app's), must
 * expose everything the design's contract names, with type declarations, and run a job.
 */
describe('the packed package', () => {
  const root = process.cwd();
  const appDir = join(root, '.tmp', `pack-${process.pid}`);

  afterAll(() => rmSync(appDir, { recursive: true, force: true }));

  it('installs from its tarball and exposes the pinned public contract', () => {
    const out = tmpDir('pack');
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')
      .pop()!;
    const installed = join(appDir, 'node_modules', 'nestjs-managed-jobs');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(out, tarball), '-C', installed, '--strip-components=1']);

    expect(existsSync(join(installed, 'dist', 'index.d.ts'))).toBe(true);
    expect(readdirSync(installed).sort()).toEqual(expect.arrayContaining(['README.md', 'dist', 'package.json']));
    expect(existsSync(join(installed, 'lib'))).toBe(false);
    // The dashboard's files ship as they are (no build step for the user), beside dist/.
    for (const file of ['index.html', 'dashboard.js', 'dashboard.css', 'live.js']) expect(existsSync(join(installed, 'assets', 'dashboard', file))).toBe(true);

    writeFileSync(
      join(appDir, 'app.mjs'),
      `
      import 'reflect-metadata';
      import { Module, Injectable } from '@nestjs/common';
      import { NestFactory } from '@nestjs/core';
      import { TypeOrmModule } from '@nestjs/typeorm';
      import * as lib from 'nestjs-managed-jobs';
      const names = ['ManagedJobsModule', 'ManagedJob', 'JobRunnerService', 'JobStatus', 'ManagedJobEvents', 'ManagedJobEntity',
        'ManagedJobFileEntity', 'managedJobsMigrations', 'InvalidJobPayloadError', 'UnknownJobError', 'JobNotFoundError',
        'ManagedSchedulesService', 'InvalidScheduleError', 'ManagedJobScheduleEntity', 'LocalStorageDriver', 'S3StorageDriver',
        'UnrecoverableJobError', 'ManagedJobRetryingEvent'];
      const missing = names.filter((n) => !(n in lib));
      if (missing.length) throw new Error('missing exports: ' + missing.join(', '));
      class Hello { handle(ctx) { return 'hi ' + ctx.payload.name; } }
      lib.ManagedJob({ name: 'hello' })(Hello);
      Injectable()(Hello);
      class AppModule {}
      Module({ imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: process.argv[2], autoLoadEntities: true,
          migrations: lib.managedJobsMigrations('better-sqlite3'), migrationsRun: true }),
        lib.ManagedJobsModule.forRoot({ worker: { pollIntervalMs: 50 }, storage: { root: process.argv[3] } }),
      ], providers: [Hello] })(AppModule);
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      const runner = app.get(lib.JobRunnerService);
      const job = await runner.dispatch('hello', { name: 'packed' }, { ownerId: 1 });
      for (let i = 0; i < 200; i++) {
        const now = await runner.find(job.jobId);
        if (now.status === lib.JobStatus.Completed) { console.log(JSON.stringify(now.result)); break; }
        await new Promise((r) => setTimeout(r, 25));
      }
      await app.close();
      `,
    );
    const dir = tmpDir('pack-db');
    const printed = execFileSync(process.execPath, [join(appDir, 'app.mjs'), join(dir, 'app.sqlite'), join(dir, 'files')], {
      cwd: appDir,
      encoding: 'utf8',
    });
    expect(printed.trim()).toBe('"hi packed"');

    // The dashboard, served from the installed package: its page, its files and the socket.io client.
    writeFileSync(
      join(appDir, 'dashboard.mjs'),
      `
      import 'reflect-metadata';
      import { Module } from '@nestjs/common';
      import { NestFactory } from '@nestjs/core';
      import { TypeOrmModule } from '@nestjs/typeorm';
      import * as lib from 'nestjs-managed-jobs';
      class AppModule {}
      Module({ imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: process.argv[2], autoLoadEntities: true,
          migrations: lib.managedJobsMigrations('better-sqlite3'), migrationsRun: true }),
        lib.ManagedJobsModule.forRoot({ worker: { enabled: false }, storage: { root: process.argv[3] },
          operator: { enabled: true, authorize: (req) => req.headers['x-admin'] === 'yes' } }),
      ] })(AppModule);
      const app = await NestFactory.create(AppModule, { logger: false });
      await app.listen(0, '127.0.0.1');
      const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const out = [];
      for (const path of ['/managed-jobs', '/managed-jobs/assets/dashboard.js', '/managed-jobs/assets/view-job.js', '/managed-jobs/assets/socket.io.esm.min.js']) {
        const response = await fetch(base + path, { headers: { 'x-admin': 'yes' } });
        out.push(path + ' ' + response.status + ' ' + ((await response.text()).length > 100));
      }
      out.push('refused ' + (await fetch(base + '/managed-jobs')).status);
      await app.close();
      console.log(out.join('\\n'));
      `,
    );
    const served = execFileSync(process.execPath, [join(appDir, 'dashboard.mjs'), join(dir, 'dashboard.sqlite'), join(dir, 'files')], { cwd: appDir, encoding: 'utf8' });
    expect(served.trim().split('\n')).toEqual([
      '/managed-jobs 200 true',
      '/managed-jobs/assets/dashboard.js 200 true',
      '/managed-jobs/assets/view-job.js 200 true',
      '/managed-jobs/assets/socket.io.esm.min.js 200 true',
      'refused 403',
    ]);
  }, 120_000);
});
