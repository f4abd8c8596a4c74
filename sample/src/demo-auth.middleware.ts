import { Injectable, NestMiddleware } from '@nestjs/common';
import { DemoUser } from './user.js';

/** The demo's idea of a user id: letters, digits, `_` and `-`, at most 40 characters. */
export function demoUserId(raw: unknown): string | null {
  const id = String(raw ?? '').replace(/[^\w-]/g, '').slice(0, 40);
  return id || null;
}

/**
 * Stands in for real authentication: the user id comes from `Authorization: Bearer <id>`
 * (what the sample page sends), `x-user-id`, or `?user=`; `demo` by default. In a real app an
 * auth guard sets `req.user` from a session or a verified token.
 */
@Injectable()
export class DemoAuthMiddleware implements NestMiddleware {
  use(req: any, _res: unknown, next: () => void) {
    const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    req.user = new DemoUser(demoUserId(bearer ?? req.headers['x-user-id'] ?? req.query?.user) ?? 'demo');
    next();
  }
}
