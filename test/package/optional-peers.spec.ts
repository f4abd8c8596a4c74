import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpDir } from '../support/databases.js';

/** The optional peers: the package must load and run jobs without any of them. */
const OPTIONAL = [
  ...['@nestjs/event-emitter', '@nestjs/schedule', 'cron', '@nestjs/websockets', '@nestjs/platform-socket.io', 'socket.io'],
  ...['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/s3-request-presigner'],
];
/** What an app on SQLite has: the required peers, the driver, and this package's own dependencies (npm installs those with it). */
const REQUIRED = [
  ...['@nestjs/common', '@nestjs/core', '@nestjs/typeorm', 'class-transformer', 'class-validator', 'reflect-metadata', 'rxjs', 'typeorm', 'better-sqlite3'],
  ...Object.keys(JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).dependencies ?? {}),
];

/**
 * The top-level packages of `modules` that `roots` need: their dependencies, optional
 * dependencies and non-optional peers, followed as Node resolves them (nested first, then up).
 * The optional peers are never followed, so they are absent unless a required package depends
 * on one outright (which the test would then reveal).
 */
function closure(modules: string, roots: string[]): string[] {
  const topLevel = new Set<string>();
  const seen = new Set<string>();
  const locate = (name: string, from: string): string | null => {
    const top = dirname(modules);
    for (let dir = from; dir.startsWith(top); dir = dirname(dir)) {
      // `dir` is a package folder or the project: look in its node_modules, then further up.
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dir === top) break;
    }
    return null;
  };
  const queue: Array<[string, string]> = roots.map((name) => [name, dirname(modules)]);
  while (queue.length) {
    const [name, from] = queue.shift()!;
    if (OPTIONAL.includes(name)) continue;
    const dir = locate(name, from);
    if (!dir || seen.has(dir)) continue;
    seen.add(dir);
    if (dir === join(modules, name)) topLevel.add(name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const meta = pkg.peerDependenciesMeta ?? {};
    const deps = [
      ...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }),
      ...Object.keys(pkg.peerDependencies ?? {}).filter((peer) => !meta[peer]?.optional),
    ];
    for (const dep of deps) queue.push([dep, dir]);
  }
  return [...topLevel].sort();
}

/** Copies (hard links when the file system allows) each package into the app's node_modules. */
function install(from: string, to: string, names: string[]): void {
  for (const name of names) {
    const target = join(to, name);
    mkdirSync(dirname(target), { recursive: true });
    try {
      execFileSync('cp', ['-al', join(from, name), target], { stdio: 'ignore' });
    } catch {
      rmSync(target, { recursive: true, force: true });
      execFileSync('cp', ['-a', join(from, name), target]);
    }
  }
}

/** A job dispatched and awaited on SQLite; prints its result as the last line. */
const ESM_APP = `
import 'reflect-metadata';
import { Module, Injectable } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import * as lib from 'nestjs-managed-jobs';
class Hello { handle(ctx) { return 'hi ' + ctx.payload.name; } }
lib.ManagedJob({ name: 'hello' })(Hello);
Injectable()(Hello);
class AppModule {}
Module({ imports: [
  TypeOrmModule.forRoot({ type: 'better-sqlite3', database: process.argv[2], autoLoadEntities: true,
    migrations: lib.managedJobsMigrations('better-sqlite3'), migrationsRun: true }),
  lib.ManagedJobsModule.forRoot({ worker: { pollIntervalMs: 50 }, storage: { root: process.argv[3] } }),
], providers: [Hello] })(AppModule);
const app = await NestFactory.createApplicationContext(AppModule, { logger: ['log', 'warn', 'error'] });
const runner = app.get(lib.JobRunnerService);
const job = await runner.dispatch('hello', { name: 'without peers' }, { ownerId: 1 });
let result = 'timed out';
for (let i = 0; i < 400; i++) {
  const now = await runner.find(job.jobId);
  if (now.status === lib.JobStatus.Completed) { result = JSON.stringify(now.result); break; }
  await new Promise((r) => setTimeout(r, 25));
}
await app.close();
console.log(result);
`;

/** The same from CommonJS: \`require()\` of the ESM package (Node ≥ 20.19), no dynamic import. */
const CJS_APP = `
require('reflect-metadata');
const { Module, Injectable } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { TypeOrmModule } = require('@nestjs/typeorm');
const lib = require('nestjs-managed-jobs');
class Hello { handle(ctx) { return 'hi ' + ctx.payload.name; } }
lib.ManagedJob({ name: 'hello' })(Hello);
Injectable()(Hello);
class AppModule {}
Module({ imports: [
  TypeOrmModule.forRoot({ type: 'better-sqlite3', database: process.argv[2], autoLoadEntities: true,
    migrations: lib.managedJobsMigrations('better-sqlite3'), migrationsRun: true }),
  lib.ManagedJobsModule.forRoot({ worker: { pollIntervalMs: 50 }, storage: { root: process.argv[3] } }),
], providers: [Hello] })(AppModule);
(async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const runner = app.get(lib.JobRunnerService);
  const job = await runner.dispatch('hello', { name: 'from require' }, { ownerId: 1 });
  let result = 'timed out';
  for (let i = 0; i < 400; i++) {
    const now = await runner.find(job.jobId);
    if (now.status === lib.JobStatus.Completed) { result = JSON.stringify(now.result); break; }
    await new Promise((r) => setTimeout(r, 25));
  }
  await app.close();
  console.log(result);
})();
`;

/** An app that picks S3StorageDriver without the AWS SDK: the start fails, naming the package. */
const S3_APP = `
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import * as lib from 'nestjs-managed-jobs';
class AppModule {}
Module({ imports: [
  TypeOrmModule.forRoot({ type: 'better-sqlite3', database: process.argv[2], autoLoadEntities: true,
    migrations: lib.managedJobsMigrations('better-sqlite3'), migrationsRun: true }),
  lib.ManagedJobsModule.forRoot({ schedule: { enabled: false }, storage: { driver: new lib.S3StorageDriver({ bucket: 'files' }) } }),
] })(AppModule);
try {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  await app.close();
  console.log('started');
} catch (error) {
  console.log(error.name + ': ' + error.message);
}
`;

/**
 * The packed tarball in an app whose node_modules holds the required peers and better-sqlite3
 * (with their own dependencies) and none of the optional peers: it loads, says once what is off
 * and why, and runs a job to completion; from ESM and from a CommonJS `require()`.
 */
describe('the packed package without its optional peers', () => {
  const root = process.cwd();
  // Outside the repository: no node_modules of any parent folder may lend it a package.
  const appDir = tmpDir('optional-peers');
  const modules = join(appDir, 'node_modules');

  beforeAll(() => {
    const out = tmpDir('pack-optional');
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')
      .pop()!;
    const installed = join(modules, 'nestjs-managed-jobs');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(out, tarball), '-C', installed, '--strip-components=1']);
    const source = realpathSync(join(root, 'node_modules'));
    install(source, modules, closure(source, REQUIRED));
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  }, 180_000);

  afterAll(() => rmSync(appDir, { recursive: true, force: true }));

  function run(file: string, source: string) {
    writeFileSync(join(appDir, file), source);
    const dir = tmpDir('optional-db');
    const child = spawnSync(process.execPath, [join(appDir, file), join(dir, 'app.sqlite'), join(dir, 'files')], {
      cwd: appDir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', NODE_PATH: '' },
      timeout: 60_000,
    });
    rmSync(dir, { recursive: true, force: true });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr, output: child.stdout + child.stderr };
  }

  it('has none of the optional peers installed (so the test means something)', () => {
    for (const name of OPTIONAL) expect([name, existsSync(join(modules, name))]).toEqual([name, false]);
    expect(existsSync(join(modules, '@nestjs', 'core'))).toBe(true);
  });

  it('loads and runs a job from an ESM app, saying once what is off and why', () => {
    const { status, stdout, output } = run('app.mjs', ESM_APP);
    if (status !== 0) throw new Error(`the app exited with ${status}:\n${output}`);
    expect(stdout.trim().split('\n').pop()).toBe('"hi without peers"');
    // One warning names the first missing socket.io peer; the start-up line says what is off.
    expect(output.match(/Live progress over socket.io is off: '@nestjs\/websockets' is not installed/g)).toHaveLength(1);
    expect(output).toMatch(/nestjs-managed-jobs on sqlite: worker on \(queues default; concurrency 10\), gateway off \(@nestjs\/websockets is not installed\), controller off, schedule off \(@nestjs\/schedule is not installed\)\./);
    expect(output.match(/'@nestjs\/schedule' is not installed/g)).toHaveLength(1);
    expect(output.match(/'@nestjs\/event-emitter' is not installed/g)).toHaveLength(1);
    expect(output).not.toMatch(/ERROR/);
  });

  it('fails the start of an app using S3StorageDriver without @aws-sdk/client-s3, naming the package', () => {
    const { status, stdout, output } = run('s3-app.mjs', S3_APP);
    if (status !== 0) throw new Error(`the app exited with ${status}:\n${output}`);
    expect(stdout.trim().split('\n').pop()).toBe(
      "ManagedJobsConfigurationError: S3StorageDriver needs '@aws-sdk/client-s3' to talk to S3, and it is not installed. Add it to your dependencies (npm install @aws-sdk/client-s3).",
    );
  });

  it('is require()-able from CommonJS (the `default` export condition) and runs a job', () => {
    const { status, stdout, output } = run('app.cjs', CJS_APP);
    if (status !== 0) throw new Error(`the app exited with ${status}:\n${output}`);
    expect(stdout.trim().split('\n').pop()).toBe('"hi from require"');
  });
});
