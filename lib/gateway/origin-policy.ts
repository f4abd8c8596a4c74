import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Server } from 'socket.io';

/**
 * Which browser origins may open a socket. Same-origin always may; others only when listed in
 * `allowedOrigins` (`'*'` lists every origin). A handshake without an `Origin` header is not a
 * browser's and is let through (it could forge the header anyway); authentication, not CORS,
 * protects private channels from those. Checking the origin ourselves also stops cross-site
 * WebSocket hijacking, which CORS alone does not (browsers do not apply CORS to WebSockets).
 */
export function isOriginAllowed(headers: IncomingHttpHeaders, allowedOrigins: string[] | undefined): boolean {
  const origin = headers.origin;
  if (!origin) return true;
  if (allowedOrigins?.includes('*') || allowedOrigins?.includes(origin)) return true;
  const host = first(headers['x-forwarded-host']) ?? headers.host;
  try {
    return !!host && new URL(origin).host === host;
  } catch {
    return false;
  }
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
