/** Jest globalTeardown: stops the PostgreSQL server started by global-setup.ts. */
import type {} from './global-setup.js'; // type-only: declares globalThis.__NMJ_PG__

export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__NMJ_PG__;
  globalThis.__NMJ_PG__ = undefined;
  await server?.stop();
}
