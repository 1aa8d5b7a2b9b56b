import { Controller, Get, Res } from '@nestjs/common';
import { Response } from 'express';
import { ReadinessReport, ReadinessService } from './readiness.service';

/**
 * `GET /health/live` (and `GET /health`, kept for existing probes): the process answers.
 * `GET /health/ready`: 200 when PostgreSQL and Kafka both answer, else 503 with the same body
 * naming each dependency, its state and its error.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadinessReport> {
    const report = await this.readiness.check();
    if (report.status !== 'ready') res.status(503);
    return report;
  }
}
