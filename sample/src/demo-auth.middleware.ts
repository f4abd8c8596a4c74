import { Injectable, NestMiddleware } from '@nestjs/common';
import { DemoUser } from './user.js';

/** The demo's idea of a user id: letters, digits, `_` and `-`, at most 40 characters. */
export function demoUserId(raw: unknown): string | null {
  const id = String(raw ?? '').replace(/[^\w-]/g, '').slice(0, 40);
  return id || null;
}

/** The demo's session cookie (set by `GET /demo/sign-in?user=<id>`; the dashboard's requests carry it). */
export const DEMO_COOKIE = 'demo_user';

/**
 * The demo user of any request, a plain Node request too (a socket's handshake, which no Nest
 * middleware has seen): `Authorization: Bearer <id>`, `x-user-id`, the `demo_user` cookie, or
 * `?user=`; null without one.
 */
export function demoUserOf(req: { headers: Record<string, string | string[] | undefined>; url?: string }): string | null {
  const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  const cookie = new RegExp(`(?:^|;\\s*)${DEMO_COOKIE}=([^;]*)`).exec(String(req.headers.cookie ?? ''))?.[1];
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('user');
  return demoUserId(bearer ?? req.headers['x-user-id'] ?? cookie ?? query);
}

/**
 * Stands in for real authentication: see `demoUserOf`; `demo` by default. In a real app an auth
 * guard sets `req.user` from a session or a verified token.
 */
@Injectable()
export class DemoAuthMiddleware implements NestMiddleware {
  use(req: any, _res: unknown, next: () => void) {
    req.user = new DemoUser(demoUserOf(req) ?? 'demo');
    next();
  }
}
