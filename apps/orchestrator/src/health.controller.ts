import { Controller, Get, Res } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { checkReadiness } from '@sagaflow/observability';
import { Response } from 'express';
import { ReadinessProbes } from './readiness-probes';

/**
 * `GET /health/live` (and `GET /health`, kept for existing probes): the process answers.
 * `GET /health/ready`: 200 when PostgreSQL, Redis and Kafka all answer, else 503 with the
 * same body naming each failing dependency in `error` (terminus' shape; see docs/operations.md).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly probes: ReadinessProbes,
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

  @Get('ready')
  @HealthCheck()
  ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    return checkReadiness(this.health, this.indicators, this.probes.all, res);
  }
}
