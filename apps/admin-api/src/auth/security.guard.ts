import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Request } from 'express';
import { routeKey } from './policy';
import { SecurityGate } from './security-gate';

/**
 * Global guard: every controller route goes through the policy table. The key is the matched
 * Express route (`req.route.path`, e.g. `/sagas/:id/retry`), so it names the route, not the URL.
 */
@Injectable()
export class SecurityGuard implements CanActivate {
  constructor(private readonly gate: SecurityGate) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    await this.gate.check(req, requestRouteKey(req));
    return true;
  }
}

/** The policy key of a routed request; an unrouted one gets a key no table entry can match. */
export function requestRouteKey(req: Request): string {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return routeKey(req.method, typeof path === 'string' ? path : `(unrouted) ${req.path}`);
}
