/** Jest globalTeardown: stops the PostgreSQL and MariaDB servers started by global-setup.ts. */
import type {} from './global-setup.js'; // type-only: declares globalThis.__NMJ_PG__

export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__NMJ_PG__;
  globalThis.__NMJ_PG__ = undefined;
  const mariadb = globalThis.__NMJ_MARIADB__;
  globalThis.__NMJ_MARIADB__ = undefined;
  await Promise.all([server?.stop(), mariadb?.destroy()]);
}
