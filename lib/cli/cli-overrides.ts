import type { ManagedJobsModuleOptions } from '../interfaces/managed-jobs-options.interface.js';

/**
 * What a CLI command says about this process, over the app's own options: `work` runs a worker
 * even where the app turns it off (with its `--queues`/`--concurrency`); every other command runs
 * no worker, no schedule ticker and no daily maintenance. Set by `runManagedJobsCli` before the
 * app is created and read by `resolveOptions` (one process runs one command).
 */
export interface CliOverrides {
  worker?: ManagedJobsModuleOptions['worker'];
  schedule?: ManagedJobsModuleOptions['schedule'];
}

const KEY = Symbol.for('nestjs-managed-jobs:cli-overrides');
const slot = globalThis as { [KEY]?: CliOverrides };

export function setCliOverrides(overrides: CliOverrides | undefined): void {
  slot[KEY] = overrides;
}

export function applyCliOverrides(options: ManagedJobsModuleOptions): ManagedJobsModuleOptions {
  const o = slot[KEY];
  if (!o) return options;
  return {
    ...options,
    worker: { ...options.worker, ...o.worker },
    schedule: { ...options.schedule, ...o.schedule },
  };
}
