import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { OrchestratorModule } from './orchestrator.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(OrchestratorModule, { logger: ['log', 'warn', 'error'] });
  app.enableShutdownHooks();
  const port = Number(process.env.ORCHESTRATOR_PORT ?? 3001);
  const host = process.env.ORCHESTRATOR_HOST ?? '127.0.0.1';
  await app.listen(port, host);
  process.stdout.write(`orchestrator listening on ${host}:${port}\n`);
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `orchestrator failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
