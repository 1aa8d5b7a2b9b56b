import { Controller, Get, Res } from '@nestjs/common';
import { Response } from 'express';
import { DataSource } from 'typeorm';

const TIMEOUT_MS = 1500;

interface AdminReadiness {
  readonly status: 'ready' | 'not-ready';
  readonly checks: {
    readonly postgresql: {
      readonly status: 'up' | 'down';
      readonly latencyMs: number;
      readonly error?: string;
    };
  };
}

/**
 * `GET /health/live` (and `GET /health`): the process answers. `GET /health/ready`: 200 when
 * PostgreSQL answers `SELECT 1` within 1.5 s, else 503 naming it and its error. The admin API
 * talks to nothing else (starting a saga only writes the outbox).
 */
@Controller('health')
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<AdminReadiness> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const query = this.dataSource.query('SELECT 1');
    query.catch(() => undefined); // a failure after the timeout is not unhandled
    try {
      await Promise.race([
        query,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)),
            TIMEOUT_MS,
          );
        }),
      ]);
      return {
        status: 'ready',
        checks: { postgresql: { status: 'up', latencyMs: Date.now() - started } },
      };
    } catch (error) {
      const report: AdminReadiness = {
        status: 'not-ready',
        checks: {
          postgresql: {
            status: 'down',
            latencyMs: Date.now() - started,
            error: error instanceof Error ? error.message : String(error),
          },
        },
      };
      // Set here, not thrown: the API's exception filter would replace the body.
      res.status(503);
      return report;
    } finally {
      clearTimeout(timer);
    }
  }
}
