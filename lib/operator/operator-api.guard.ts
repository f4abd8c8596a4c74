import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { RESOLVED_OPTIONS } from '../managed-jobs.constants.js';
import type { ResolvedOptions } from '../managed-jobs.options.js';

/**
 * Every operator route is behind `operator.authorize(req)`: anything but `true` (a throw
 * included) is a 403 with no data, before the route reads its body or touches the database.
 */
@Injectable()
export class OperatorApiGuard implements CanActivate {
  constructor(@Inject(RESOLVED_OPTIONS) private readonly options: ResolvedOptions) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest();
    let allowed = false;
    try {
      allowed = (await this.options.operator.authorize?.(req)) === true;
    } catch {
      allowed = false;
    }
    if (!allowed) throw new ForbiddenException();
    return true;
  }
}
