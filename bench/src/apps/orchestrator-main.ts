import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { OrchestratorModule } from '../../../apps/orchestrator/src/orchestrator.module';
import { benchSagaFromEnv } from '../saga/bench-saga';
import { installProfileToggle } from './profile-toggle';

/**
 * The real orchestrator (its module, unchanged) running the bench saga instead of the sample
 * definitions. The module hard-wires `sampleDefinitions`, so the registry provider is swapped
 * through Nest's override API; everything else — relay, reply consumer, timers — is production code.
 */
async function bootstrap(): Promise<void> {
  installProfileToggle();
  const moduleRef = await Test.createTestingModule({ imports: [OrchestratorModule] })
    .overrideProvider(DefinitionRegistry)
    .useValue(new DefinitionRegistry([benchSagaFromEnv()]))
    .compile();
  const app = moduleRef.createNestApplication({ logger: ['log', 'warn', 'error'] });
  // Not every signal (Nest's default includes SIGUSR2): SIGUSR2 toggles the CPU profiler here.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const port = Number(process.env.ORCHESTRATOR_PORT ?? 3001);
  await app.listen(port, '127.0.0.1');
  process.stdout.write(`orchestrator listening on 127.0.0.1:${port}\n`);
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `bench orchestrator failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
