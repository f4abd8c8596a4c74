/**
 * Real worker processes for the reliability specs: builds the library once (the children run the
 * compiled JS, not the TS sources jest runs), spawns test/reliability/worker-app.mjs N times, and
 * gives each one kill / freeze (SIGSTOP) / resume (SIGCONT) / terminate (SIGTERM) controls plus
 * what it reported on stdout (`@@NMJ {json}` lines: ready, events, fenced writes).
 *
 * Every spawned process is remembered; `killAllWorkers()` (call it in afterEach/afterAll) resumes
 * and SIGKILLs whatever is left, so a failed test never leaves a worker behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './databases.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKER_APP = path.join(ROOT, 'test/reliability/worker-app.mjs');
const BUILD_ROOT = path.join(ROOT, '.tmp/reliability-build');

/**
 * Compiles lib/ with tsconfig.build.json into `.tmp/reliability-build/<hash of the sources>/` and
 * returns the path of its `index.js`. The hash makes a stale build impossible, and the
 * build-then-rename makes concurrent spec files safe (the loser of the race drops its copy).
 */
export function buildLibrary(): string {
  const hash = createHash('sha256');
  const files = [
    'tsconfig.json',
    'tsconfig.build.json',
    ...fs.readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' }).map((f) => path.join('lib', f)),
  ].sort();
  for (const file of files) {
    const full = path.join(ROOT, file);
    if (!fs.statSync(full).isFile()) continue;
    hash.update(file).update('\0').update(fs.readFileSync(full)).update('\0');
  }
  const dir = path.join(BUILD_ROOT, hash.digest('hex').slice(0, 16));
  const entry = path.join(dir, 'index.js');
  if (fs.existsSync(entry)) return entry;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', tmp], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    fs.renameSync(tmp, dir);
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(entry)) {
      const out = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
      throw new Error(`Building the library for worker processes failed: ${(error as Error).message}\n${out}`);
    }
  }
  return entry;
}

/** Environment of one worker (see worker-app.mjs readConfig()). */
export type WorkerEnv = Record<string, string | number | undefined>;

/** The worker environment that points a worker process at the test database `db`. */
export function databaseEnv(db: { dialect: string; typeorm: unknown }): WorkerEnv {
  const t = db.typeorm as any;
  return db.dialect === 'sqlite'
    ? { NMJ_DB_TYPE: 'better-sqlite3', NMJ_DB_FILE: t.database }
    : { NMJ_DB_TYPE: t.type, NMJ_DB_HOST: t.host, NMJ_DB_PORT: t.port, NMJ_DB_USER: t.username, NMJ_DB_PASSWORD: t.password, NMJ_DB_NAME: t.database };
}

export interface WorkerMessage {
  type: string;
  at: number;
  [key: string]: any;
}

const spawned = new Set<WorkerProcess>();

export class WorkerProcess {
  readonly child: ChildProcess;
  /** Every line the process wrote (stdout and stderr), for diagnosis. */
  readonly lines: string[] = [];
  readonly messages: WorkerMessage[] = [];
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  exitInfo?: { code: number | null; signal: NodeJS.Signals | null; at: number };
  frozen = false;

  constructor(
    readonly id: string,
    env: WorkerEnv,
  ) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    delete childEnv.NODE_OPTIONS; // jest's --experimental-vm-modules is not for the child
    for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = String(v);
    childEnv.NMJ_WORKER_ID = id;
    this.child = spawn(process.execPath, ['--enable-source-maps', WORKER_APP], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal, at: Date.now() };
        resolve(this.exitInfo);
      });
    });
    let onReady!: () => void;
    const readyMessage = new Promise<void>((resolve) => (onReady = resolve));
    this.collect(this.child.stdout!, (line) => {
      if (!line.startsWith('@@NMJ ')) return;
      const message = JSON.parse(line.slice(6)) as WorkerMessage;
      this.messages.push(message);
      if (message.type === 'ready') onReady();
    });
    this.collect(this.child.stderr!);
    this.ready = Promise.race([
      readyMessage,
      this.exited.then((e) => {
        throw new Error(`worker ${id} exited before it was ready (code ${e.code}, signal ${e.signal}):\n${this.tail()}`);
      }),
    ]);
    this.ready.catch(() => undefined);
  }

  private collect(stream: NodeJS.ReadableStream, onLine?: (line: string) => void): void {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.lines.push(line);
        onLine?.(line);
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return !this.exitInfo;
  }

  events(jobId?: string): WorkerMessage[] {
    return this.messages.filter((m) => m.type === 'event' && (!jobId || m.jobId === jobId));
  }

  /** The last lines of output, for failure messages. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** kill -9: no shutdown hook runs. */
  async kill(): Promise<void> {
    if (this.frozen) this.resume();
    this.signal('SIGKILL');
    await this.exited;
  }

  freeze(): void {
    this.signal('SIGSTOP');
    this.frozen = true;
  }

  resume(): void {
    this.signal('SIGCONT');
    this.frozen = false;
  }

  /** SIGTERM: the graceful shutdown path (app.enableShutdownHooks()). */
  terminate(): void {
    this.signal('SIGTERM');
  }
}

/** Starts `count` workers named `${prefix}1…` and waits until each one runs. */
export async function startWorkers(count: number, env: WorkerEnv, prefix = 'w'): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, (_, i) => new WorkerProcess(`${prefix}${i + 1}`, env));
  await Promise.all(workers.map((w) => withTimeout(w.ready, 90_000, `worker ${w.id} did not report ready`, w)));
  return workers;
}

/** SIGCONT + SIGKILL every worker still alive (test cleanup). */
export async function killAllWorkers(): Promise<void> {
  const alive = [...spawned].filter((w) => w.alive);
  await Promise.all(alive.map((w) => w.kill()));
  spawned.clear();
}

/** Waits for the worker to exit; SIGKILLs it (and fails) when it takes longer than `ms`. */
export async function waitForExit(worker: WorkerProcess, ms: number) {
  return withTimeout(worker.exited, ms, `worker ${worker.id} did not exit`, worker);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string, worker: WorkerProcess): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms; last output:\n${worker.tail()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export { waitFor };
