/** Runs test/operator/cli-app.mjs (a user's jobs-cli) as a real child process against a test database. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../support/processes.js';
import type { TestDatabase } from '../support/databases.js';

const CLI_APP = path.join(ROOT, 'test/operator/cli-app.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliChild {
  child: ChildProcess;
  result: Promise<CliResult>;
  output(): string;
}

const started = new Set<ChildProcess>();

export function startCli(library: string, db: TestDatabase, args: string[], env: Record<string, string> = {}): CliChild {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, NMJ_LIBRARY: library, NMJ_TYPEORM: JSON.stringify(db.typeorm) };
  delete childEnv.NODE_OPTIONS;
  childEnv.NMJ_STORAGE_ROOT ??= path.join(ROOT, '.tmp', 'cli-storage');
  const child = spawn(process.execPath, [CLI_APP, ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const result = new Promise<CliResult>((resolve) =>
    child.once('exit', (code, signal) => {
      started.delete(child);
      // let the pipes drain
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    }),
  );
  return { child, result, output: () => stdout + stderr };
}

/** Runs a command to its end (killed after `timeoutMs`). */
export async function runCli(library: string, db: TestDatabase, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  const run = startCli(library, db, args, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  try {
    return await run.result;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every CLI process still running (test cleanup). */
export function killAllCli(): void {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}
