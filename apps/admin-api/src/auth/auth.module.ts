import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditModule } from '../audit';
import { ApiKeyService } from './api-key.service';
import { ApiKeysController } from './api-keys.controller';
import { AUTH_CONFIG, loadAuthConfig } from './auth-config';
import { Authenticator } from './authenticator';
import { RateLimiter } from './rate-limiter';
import { RouteInventoryCheck } from './route-inventory.check';
import { SecurityGate } from './security-gate';
import { SecurityGuard } from './security.guard';

/**
 * Authentication (API keys, optional JWT), the policy table, rate limits and the audit log,
 * in front of every route: the guard is global, so a new controller is covered without opt-in.
 */
@Module({
  imports: [AuditModule],
  controllers: [ApiKeysController],
  providers: [
    { provide: AUTH_CONFIG, useFactory: () => loadAuthConfig() },
    ApiKeyService,
    Authenticator,
    RateLimiter,
    SecurityGate,
    RouteInventoryCheck,
    { provide: APP_GUARD, useClass: SecurityGuard },
  ],
  exports: [AuditModule, ApiKeyService, SecurityGate, AUTH_CONFIG],
})
export class AuthModule {}
