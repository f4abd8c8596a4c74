/**
 * `runManagedJobsCli(AppModule, argv)`: the operator's command line, for a user's `jobs-cli.ts`:
 *
 *   process.exitCode = await runManagedJobsCli(AppModule);
 *
 * Arguments are parsed by Node's own `util.parseArgs` (strict: an unknown flag is an error). The
 * app is started as an application context (no HTTP server). `work` runs a worker whatever the
 * app's options say; every other command runs none, no schedule ticker and no daily maintenance
 * (cli-overrides.ts). Exit codes: 0 done, 1 failed (message on stderr), 2 bad usage.
 */
import { Module, type INestApplicationContext, type LogLevel, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import type { CliCommand, CliValues } from './cli-command.js';
import { CliUsageError } from './cli-command.js';
import { CliOutput } from './cli-output.js';
import { setCliOverrides } from './cli-overrides.js';
import { expireFilesCommand } from './commands/expire-files.command.js';
import { flushCommand } from './commands/flush.command.js';
import { forgetCommand } from './commands/forget.command.js';
import { listCommand } from './commands/list.command.js';
import { pruneCommand } from './commands/prune.command.js';
import { clearCommand, pauseCommand, resumeCommand } from './commands/queue.commands.js';
import { retryCommand } from './commands/retry.command.js';
import { scheduleTriggerCommand, schedulesCommand } from './commands/schedule.commands.js';
import { showCommand } from './commands/show.command.js';
import { statsCommand } from './commands/stats.command.js';
import { workCommand } from './commands/work.command.js';
import { workersCommand } from './commands/workers.command.js';

const COMMANDS: CliCommand[] = [
  workCommand,
  statsCommand,
  listCommand,
  showCommand,
  retryCommand,
  forgetCommand,
  flushCommand,
  pruneCommand,
  clearCommand,
  pauseCommand,
  resumeCommand,
  workersCommand,
  schedulesCommand,
  scheduleTriggerCommand,
  expireFilesCommand,
];

export interface CliIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** Runs one command against the app and returns the exit code (it never calls `process.exit`). */
export async function runManagedJobsCli(appModule: Type<unknown>, argv: string[] = process.argv.slice(2), io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = io.stderr ?? ((t: string) => void process.stderr.write(t));
  const index = argv.findIndex((a) => !a.startsWith('-'));
  const name = index >= 0 ? argv[index] : undefined;
  const rest = index >= 0 ? [...argv.slice(0, index), ...argv.slice(index + 1)] : argv;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const asked = name === 'help' || (name === undefined && (rest.includes('--help') || rest.includes('-h')));
    (asked ? stdout : stderr)(overview(asked ? undefined : name));
    return asked ? 0 : 2;
  }
  let values: CliValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' }, ...(command.read ? { json: { type: 'boolean' } } : {}) },
      allowPositionals: true,
      strict: true,
    }) as { values: CliValues; positionals: string[] });
    if (values.help) {
      stdout(commandHelp(command));
      return 0;
    }
    command.check?.(values, positionals);
  } catch (error) {
    stderr(`${(error as Error).message}\nUsage: ${command.usage}\n`);
    return 2;
  }
  const out = new CliOutput(stdout, stderr, values.json === true);
  setCliOverrides(command.overrides?.(values) ?? { worker: { enabled: false }, schedule: { enabled: false } });
  let app: INestApplicationContext | undefined;
  try {
    // Read commands keep stdout for their output (and --json parseable): only errors are logged.
    const logger: LogLevel[] = command.name === 'work' ? ['log', 'warn', 'error'] : ['error'];
    app = await NestFactory.createApplicationContext(withProviders(appModule, command.providers?.(values) ?? []), { logger });
    return await command.run({ app, values, positionals, out });
  } catch (error) {
    out.error(error instanceof CliUsageError ? `${error.message}\nUsage: ${command.usage}` : `Error: ${(error as Error)?.message ?? error}`);
    return error instanceof CliUsageError ? 2 : 1;
  } finally {
    try {
      await app?.close();
    } catch (error) {
      out.error(`Error while shutting down: ${(error as Error)?.message ?? error}`);
    }
    setCliOverrides(undefined);
  }
}

/** The app's module, with the command's own providers beside it (a root module that imports it). */
function withProviders(appModule: Type<unknown>, providers: Provider[]): Type<unknown> {
  if (!providers.length) return appModule;
  class ManagedJobsCliModule {}
  Module({ imports: [appModule], providers })(ManagedJobsCliModule);
  return ManagedJobsCliModule;
}

function overview(name: string | undefined): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    ...(name ? [`Unknown command ${JSON.stringify(name)}.`, ''] : []),
    'Usage: jobs-cli <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Read commands (stats, list, show, workers, schedules) take --json. Every command takes --help.',
  ];
  return `${lines.join('\n')}\n`;
}

function commandHelp(c: CliCommand): string {
  return `Usage: jobs-cli ${c.usage}\n\n${c.summary}\n`;
}
