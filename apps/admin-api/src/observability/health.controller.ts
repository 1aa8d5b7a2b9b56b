import { Controller, Get, Res } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { checkReadiness } from '@sagaflow/observability';
import { Response } from 'express';
import { AdminReadinessProbes } from './readiness-probes';

/**
 * `GET /health/live` (and `GET /health`): the process answers. `GET /health/ready`: 200 when
 * PostgreSQL and Redis answer within 1.5 s, else 503 with the same body naming each failing
 * check in `error` (terminus' shape; see docs/operations.md). Declared by ObservabilityModule,
 * which replaces the hand-written `../health.controller.ts`.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly probes: AdminReadinessProbes,
  ) {}

  @Get()
  @HealthCheck()
  root(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** The status is set, not thrown: the API's exception filter would replace the body. */
  @Get('ready')
  @HealthCheck()
  ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    return checkReadiness(this.health, this.indicators, this.probes.all, res);
  }
}
