/**
 * The dashboard's files: plain HTML, CSS and ES modules shipped in the package under
 * `assets/dashboard/` (two folders up from this file in `lib/` and in `dist/` alike), plus the
 * socket.io client from the installed `socket.io` package. Read once, kept in memory; only the
 * names listed here are served (no path from the request ever reaches the file system).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  type: string;
  body: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The socket.io client (ES module build), served from the app's own `socket.io` package. */
export const SOCKET_CLIENT = 'socket.io.esm.min.js';

const here = dirname(fileURLToPath(import.meta.url));
export const ASSETS_DIR = join(here, '..', '..', 'assets', 'dashboard');

let shipped: Set<string> | undefined;
/** The files the page may load: what the package ships in its assets folder, by name (read once). */
function shippedNames(): Set<string> {
  shipped ??= new Set(readdirSync(ASSETS_DIR).filter((name) => /^[\w-]+\.(html|css|js|svg)$/.test(name)));
  return shipped;
}

const cache = new Map<string, Asset | null>();

function typeOf(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/** A listed asset, or null (unknown name, or the socket.io client when socket.io is not installed). */
export function readAsset(name: string): Asset | null {
  if (cache.has(name)) return cache.get(name)!;
  if (!shippedNames().has(name) && name !== SOCKET_CLIENT) return null;
  let asset: Asset | null = null;
  if (shippedNames().has(name)) {
    asset = { type: typeOf(name), body: readFileSync(join(ASSETS_DIR, name), 'utf8') };
  } else if (name === SOCKET_CLIENT) {
    try {
      const main = createRequire(import.meta.url).resolve('socket.io');
      const body = readFileSync(join(dirname(main), '..', 'client-dist', SOCKET_CLIENT), 'utf8');
      // Its source map is not served: drop the comment that would make devtools ask for it.
      asset = { type: typeOf(name), body: body.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n') };
    } catch {
      asset = null;
    }
  }
  cache.set(name, asset);
  return asset;
}

/** The page, with where to find the API, the assets and the live feed written into `<body data-…>`. */
export function renderPage(base: string, live: { path: string; namespace: string } | null): string {
  const html = readAsset('index.html')!.body;
  const values: Record<string, string> = {
    BASE: base,
    SOCKET_PATH: live?.path ?? '',
    NAMESPACE: live?.namespace ?? '',
  };
  return html.replace(/\{\{(\w+)\}\}/g, (_, key: string) => escapeAttribute(values[key] ?? ''));
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
