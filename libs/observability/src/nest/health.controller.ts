import { Controller, Get, Inject, Res } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { Response } from 'express';
import { Probe } from '../health/probe';
import { checkReadiness } from './readiness';

/** Injection token of the app's readiness probes: `{ all: { postgresql, redis, … } }`. */
export const READINESS_PROBES = 'SAGAFLOW_READINESS_PROBES';

export interface ReadinessProbeSet {
  readonly all: Readonly<Record<string, Probe>>;
}

/**
 * `GET /health/live` (and `GET /health`, kept for existing probes): the process answers.
 * `GET /health/ready`: 200 when every dependency of the app's probe set answers, else 503 with
 * the same body naming each failing one in `error` (terminus' shape; see docs/operations.md).
 * Both apps serve it; each provides its own probes under READINESS_PROBES.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbeSet,
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

  /** The status is set, not thrown: an app-wide exception filter would replace the body. */
  @Get('ready')
  @HealthCheck()
  ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    return checkReadiness(this.health, this.indicators, this.probes.all, res);
  }
}
