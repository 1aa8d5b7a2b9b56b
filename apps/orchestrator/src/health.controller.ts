import { Controller, Get } from '@nestjs/common';

/** Liveness only for now; readiness over every dependency arrives with observability. */
@Controller('health')
export class HealthController {
  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
