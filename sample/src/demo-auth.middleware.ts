import { Injectable, NestMiddleware } from '@nestjs/common';
import { DemoUser } from './user.js';

/**
 * Stands in for real authentication: the user id comes from the `x-user-id` header (or `?user=`),
 * `demo` by default. In a real app an auth guard sets `req.user`.
 */
@Injectable()
export class DemoAuthMiddleware implements NestMiddleware {
  use(req: any, _res: unknown, next: () => void) {
    const id = String(req.headers['x-user-id'] ?? req.query?.user ?? 'demo').replace(/[^\w-]/g, '').slice(0, 40) || 'demo';
    req.user = new DemoUser(id);
    next();
  }
}
