import type { INestApplicationContext, Provider } from '@nestjs/common';
import type { ParseArgsConfig } from 'node:util';
import type { CliOverrides } from './cli-overrides.js';
import type { CliOutput } from './cli-output.js';

export type CliValues = Record<string, string | boolean | undefined>;

/** A CLI usage mistake: the message and the command's usage go to stderr, exit code 2. */
export class CliUsageError extends Error {}

export interface CliRun {
  app: INestApplicationContext;
  values: CliValues;
  positionals: string[];
  out: CliOutput;
}

/** One command of `runManagedJobsCli`, in its own file under commands/. */
export interface CliCommand {
  name: string;
  /** `name <args> [--flags]`, as `--help` prints it. */
  usage: string;
  summary: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** A read command: takes `--json`. */
  read?: boolean;
  /** What this process runs while the command does: by default no worker, no schedule ticker, no maintenance. */
  overrides?(values: CliValues): CliOverrides;
  /** Providers added next to the app's module (they start before the app's own lifecycle hooks run). */
  providers?(values: CliValues): Provider[];
  /** Checks the arguments before the app starts (throw `CliUsageError`). */
  check?(values: CliValues, positionals: string[]): void;
  /** Returns the exit code. */
  run(cli: CliRun): Promise<number>;
}

/** The audit of a CLI action: the OS user and host, and `--reason`. */
export const REASON_OPTION = { reason: { type: 'string' } } as const;

export function positiveInteger(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliUsageError(`--${name} must be a whole number ≥ 0; got ${JSON.stringify(value)}.`);
  return n;
}

export function needPositionals(positionals: string[], min: number, what: string, max = Infinity): void {
  if (positionals.length < min) throw new CliUsageError(`Missing ${what}.`);
  if (positionals.length > max) throw new CliUsageError(`Too many arguments: ${positionals.slice(max).join(' ')}.`);
}
