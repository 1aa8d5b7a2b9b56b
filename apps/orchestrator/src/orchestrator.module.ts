import { Module } from '@nestjs/common';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { sampleDefinitions } from '@sagaflow/sample-order';
import { HealthController } from './health.controller';
import { OrchestratorService } from './orchestrator.service';

const CONFIG = 'SAGAFLOW_CONFIG';

@Module({
  controllers: [HealthController],
  providers: [
    { provide: CONFIG, useFactory: () => loadConfig() },
    { provide: DefinitionRegistry, useFactory: () => new DefinitionRegistry(sampleDefinitions) },
    {
      provide: OrchestratorService,
      useFactory: (c: SagaflowConfig, r: DefinitionRegistry) => new OrchestratorService(c, r),
      inject: [CONFIG, DefinitionRegistry],
    },
  ],
})
export class OrchestratorModule {}
