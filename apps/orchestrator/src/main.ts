import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { PinoNestLogger, ProcessTelemetry } from '@sagaflow/observability';
import { OrchestratorModule } from './orchestrator.module';
import { PROCESS_TELEMETRY } from './tokens';

async function bootstrap(): Promise<void> {
  // Nest's own lines are held until the JSON logger is in place, then written through it.
  // abortOnError: a provider that cannot start (bad configuration, a bad definitions module)
  // rejects here and is reported in one line below, instead of Nest's stack dump.
  const app = await NestFactory.create(OrchestratorModule, {
    bufferLogs: true,
    abortOnError: false,
  });
  const { logger } = app.get<ProcessTelemetry>(PROCESS_TELEMETRY);
  app.useLogger(new PinoNestLogger(logger));
  app.flushLogs();
  app.enableShutdownHooks();
  const port = Number(process.env.ORCHESTRATOR_PORT ?? 3001);
  const host = process.env.ORCHESTRATOR_HOST ?? '127.0.0.1';
  await app.listen(port, host);
  // Tests and scripts wait for this line (test/support/processes.ts READY).
  logger.info({ host, port }, `orchestrator listening on ${host}:${port}`);
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `orchestrator failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
