/**
 * Child processes running test/schedules/schedule-app.mjs on the built library (the same build as
 * the reliability specs, test/support/processes.ts). Every child is remembered and killed by
 * `stopAll()`, so a failing test leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { buildLibrary, ROOT } from '../support/processes.js';
import type { TestDatabase } from '../support/databases.js';

const APP = path.join(ROOT, 'test/schedules/schedule-app.mjs');
const children = new Set<ScheduleProcess>();

export class ScheduleProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;

  constructor(
    readonly id: string,
    env: Record<string, string>,
  ) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, NMJ_WORKER_ID: id };
    delete childEnv.NODE_OPTIONS;
    this.child = spawn(process.execPath, ['--enable-source-maps', APP], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    let onReady!: () => void;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding('utf8');
      let buffer = '';
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          this.lines.push(line);
          if (line.startsWith('@@NMJ ') && line.includes('"ready"')) onReady();
        }
      });
    }
    this.ready = Promise.race([
      ready,
      this.exited.then((code) => {
        throw new Error(`schedule process ${id} exited (${code}) before it was ready:\n${this.lines.slice(-30).join('\n')}`);
      }),
    ]);
    this.ready.catch(() => undefined);
  }

  /** SIGTERM: the graceful shutdown; resolves when the process has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** Env for a child on the test database, with its declared schedules. */
export function scheduleEnv(db: TestDatabase, schedules: unknown[], extra: Record<string, string> = {}): Record<string, string> {
  const database = db.dialect === 'sqlite' ? { ...db.typeorm, enableWAL: true } : db.typeorm;
  return { NMJ_LIBRARY: buildLibrary(), NMJ_DB: JSON.stringify(database), NMJ_SCHEDULES: JSON.stringify(schedules), ...extra };
}

export async function startScheduleProcesses(count: number, env: Record<string, string>, prefix: string): Promise<ScheduleProcess[]> {
  const started = Array.from({ length: count }, (_, i) => new ScheduleProcess(`${prefix}${i + 1}`, env));
  await Promise.all(started.map((p) => p.ready));
  return started;
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map(async (p) => {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }),
  );
  children.clear();
}
