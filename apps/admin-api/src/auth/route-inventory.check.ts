import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { unlistedRoutes } from './route-inventory';

/**
 * Warns at startup about routes missing from the policy table (they answer 403 to everyone).
 * A warning, not a refusal to start: the authorization test fails on them in CI instead.
 */
@Injectable()
export class RouteInventoryCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('Policy');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    for (const key of unlistedRoutes(this.adapterHost.httpAdapter)) {
      this.logger.warn(
        `${key} is not in the policy table (auth/policy.ts): it is refused to everyone`,
      );
    }
  }
}
