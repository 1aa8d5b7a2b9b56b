import { Inject, Injectable } from '@nestjs/common';
import { Request } from 'express';
import { ApiError } from '../errors';
import { AUTH_CONFIG, AuthConfig } from './auth-config';
import { Authenticator, unauthenticated } from './authenticator';
import { accessFor, Access, isMutating, UNLIMITED_ROUTES } from './policy';
import { Principal, roleAtLeast } from './principal';
import { RateLimiter } from './rate-limiter';

const DOCS_ROUTES = new Set(['GET /docs', 'GET /docs-json']);

/**
 * The one security decision, for a request and its policy-table key: authenticate, count it
 * against the caller's budget, compare the caller's role with the table. Sets `req.principal`
 * as soon as it is known, so even a denial is audited under the caller's name. Shared by the
 * global guard (controllers) and the docs middleware (routes Swagger mounts outside Nest).
 */
@Injectable()
export class SecurityGate {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly limiter: RateLimiter,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async check(req: Request, key: string): Promise<void> {
    const access = this.accessOf(key);
    if (access === 'public') {
      if (!UNLIMITED_ROUTES.has(key)) await this.limit(req, null);
      return;
    }
    let principal: Principal | null;
    try {
      principal = await this.authenticator.identify(req);
    } catch (error) {
      // Failed credentials spend the caller's address budget: guessing keys is rate limited.
      await this.limit(req, null);
      throw error;
    }
    await this.limit(req, principal);
    if (!principal) {
      throw unauthenticated(
        'authentication required: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"',
      );
    }
    req.principal = principal;
    if (access === undefined) {
      throw new ApiError(
        'FORBIDDEN',
        `${key} is not in the access policy, so it is refused to everyone`,
      );
    }
    if (!roleAtLeast(principal.role, access)) {
      throw new ApiError(
        'FORBIDDEN',
        `${key} needs the ${access} role (or higher); ${principal.name} has the ${principal.role} role`,
      );
    }
  }

  private accessOf(key: string): Access | undefined {
    if (this.config.docsPublic && DOCS_ROUTES.has(key)) return 'public';
    return accessFor(key);
  }

  private async limit(req: Request, principal: Principal | null): Promise<void> {
    const budget = isMutating(req.method) ? 'writes' : 'reads';
    const subject = principal
      ? principal.id
      : `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
    const over = await this.limiter.consume(budget, subject);
    if (!over) return;
    if (principal) req.principal = principal;
    throw new ApiError(
      'RATE_LIMITED',
      `too many ${budget}: at most ${this.limiter.limitOf(budget)} a minute per caller; retry in ${over.retryAfterSeconds} s`,
      undefined,
      { 'Retry-After': String(over.retryAfterSeconds) },
    );
  }
}
