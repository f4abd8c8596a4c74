/**
 * Optional peers (`@nestjs/event-emitter`, `@nestjs/schedule`/`cron`, and for live progress
 * `@nestjs/websockets`, `@nestjs/platform-socket.io`, `socket.io`) are never imported statically:
 * each is imported here, lazily, by the part that uses it, so the package loads and runs jobs in
 * an app that has none of them. A missing one turns its part off; anything else it throws is a
 * real error and is rethrown.
 */
const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND', 'ERR_PACKAGE_PATH_NOT_EXPORTED']);

/** Whether `error` says that `name` (or one of its own dependencies) is not installed. */
export function isMissingPackage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NOT_FOUND.has(code)) return true;
  return /Cannot find (module|package)/.test(String((error as Error | null)?.message ?? ''));
}

/** The peer's module, or null when it is not installed. */
export async function loadOptionalPeer<T>(name: string, load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error)) return null;
    throw error;
  }
}

/** The first of `names` that cannot be imported, or null when all of them can. */
export async function firstMissingPeer(names: Record<string, () => Promise<unknown>>): Promise<string | null> {
  for (const [name, load] of Object.entries(names)) {
    if ((await loadOptionalPeer(name, load)) === null) return name;
  }
  return null;
}
