import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Server } from 'socket.io';

/** Whether the request came through a proxy the app trusts (Express's `trust proxy`). */
export type TrustProxy = (req: IncomingMessage) => boolean;

/**
 * Which browser origins may open a socket. Same-origin always may; others only when listed in
 * `allowedOrigins` (`'*'` lists every origin). A handshake without an `Origin` header is not a
 * browser's and is let through (it could forge the header anyway); authentication, not CORS,
 * protects private channels from those. Checking the origin ourselves also stops cross-site
 * WebSocket hijacking, which CORS alone does not (browsers do not apply CORS to WebSockets).
 *
 * Same origin means the same scheme and host (with port): `http://app` is not `https://app`. The
 * `X-Forwarded-*` headers name them only when the request came through a trusted proxy; anyone
 * else could send them to pass as same-origin.
 */
export function isOriginAllowed(req: IncomingMessage, allowedOrigins: string[] | undefined, trustProxy: TrustProxy): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowedOrigins?.includes('*') || allowedOrigins?.includes(origin)) return true;
  return ownOrigin(req, trustProxy) === normalised(origin);
}

/** The origin the request was made to: `scheme://host[:port]`, normalised; null when unknown. */
function ownOrigin(req: IncomingMessage, trustProxy: TrustProxy): string | null {
  const trusted = trustProxy(req);
  const headers: IncomingHttpHeaders = req.headers;
  const host = (trusted && first(headers['x-forwarded-host'])) || headers.host;
  const scheme = (trusted && first(headers['x-forwarded-proto'])) || ((req.socket as { encrypted?: boolean })?.encrypted ? 'https' : 'http');
  return host ? normalised(`${scheme}://${host}`) : null;
}

function normalised(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? null : url.origin;
  } catch {
    return null;
  }
}

/**
 * Express's compiled `trust proxy` setting of the app's HTTP adapter (nothing is trusted when the
 * adapter is not Express or the setting is off, Express's own default).
 */
export function expressTrustProxy(app: unknown): TrustProxy {
  const fn = (app as { get?: (name: string) => unknown })?.get?.('trust proxy fn');
  if (typeof fn !== 'function') return () => false;
  return (req) => {
    try {
      return Boolean(fn(req.socket?.remoteAddress, 0));
    } catch {
      return false;
    }
  };
}

/**
 * Adds CORS headers to the socket.io (engine.io) responses for the listed origins, so a page on
 * another origin can use the HTTP long-polling transport too. The app's own `cors` settings on
 * its socket.io server win: a header already set is left alone. Returns the undo function.
 */
export function allowCrossOrigin(server: Server, allowedOrigins: string[]): () => void {
  const onHeaders = (headers: Record<string, string>, req: IncomingMessage) => {
    const origin = req.headers.origin;
    if (!origin || headers['Access-Control-Allow-Origin']) return;
    if (!allowedOrigins.includes('*') && !allowedOrigins.includes(origin)) return;
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Allow-Credentials'] = 'true';
    headers['Vary'] = 'Origin';
  };
  server.engine.on('headers', onHeaders);
  return () => server.engine.off('headers', onHeaders);
}

function first(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;
}
