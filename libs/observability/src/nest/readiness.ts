import { ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { Response } from 'express';
import { Probe } from '../health/probe';

/**
 * Runs the probes through terminus: 200 with `{ status: 'ok', info, error, details }` when every
 * dependency is up, else 503 with the same body, each failing check named in `error` with its
 * `error` message and `latencyMs`. The status is set on the response and the body returned
 * (not thrown), so an app-wide exception filter cannot replace it.
 *
 * @example
 * return checkReadiness(this.health, this.indicators, { postgresql, redis, kafka }, res);
 */
export async function checkReadiness(
  health: HealthCheckService,
  indicators: HealthIndicatorService,
  probes: Readonly<Record<string, Probe>>,
  res: Response,
): Promise<HealthCheckResult> {
  try {
    return await health.check(
      Object.entries(probes).map(
        ([name, probe]) =>
          () =>
            indicate(indicators, name, probe),
      ),
    );
  } catch (error) {
    if (!(error instanceof ServiceUnavailableException)) throw error;
    res.status(503);
    return error.getResponse() as HealthCheckResult;
  }
}

async function indicate(
  indicators: HealthIndicatorService,
  name: string,
  probe: Probe,
): Promise<HealthIndicatorResult> {
  const result = await probe.check();
  const session = indicators.check(name);
  return result.status === 'up'
    ? session.up({ latencyMs: result.latencyMs })
    : session.down({ latencyMs: result.latencyMs, error: result.error ?? 'down' });
}
