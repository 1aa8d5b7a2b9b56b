import { Module } from '@nestjs/common';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { createKafka } from '@sagaflow/messaging';
import { bootstrapStore, DefinitionRegistry } from '@sagaflow/runtime';
import { sampleDefinitions } from '@sagaflow/sample-order';
import { DataSource } from 'typeorm';
import { HealthController } from './health.controller';
import { OrchestratorService } from './orchestrator.service';
import { CONFIG, KAFKA } from './tokens';

/**
 * The orchestrator: one DataSource (migrated at startup under an advisory lock) and one Kafka
 * client shared by its services. Each moving part is its own provider.
 */
@Module({
  controllers: [HealthController],
  providers: [
    { provide: CONFIG, useFactory: () => loadConfig() },
    { provide: DefinitionRegistry, useFactory: () => new DefinitionRegistry(sampleDefinitions) },
    {
      provide: DataSource,
      useFactory: (config: SagaflowConfig, registry: DefinitionRegistry) =>
        bootstrapStore(config, registry, {
          migrate: true,
          applicationName: 'sagaflow-orchestrator',
        }),
      inject: [CONFIG, DefinitionRegistry],
    },
    {
      provide: KAFKA,
      useFactory: (config: SagaflowConfig) =>
        createKafka({ brokers: config.kafkaBrokers, clientId: 'sagaflow-orchestrator' }),
      inject: [CONFIG],
    },
    {
      provide: OrchestratorService,
      useFactory: (c: SagaflowConfig, r: DefinitionRegistry, d: DataSource, k: Kafka) =>
        new OrchestratorService(c, r, d, k),
      inject: [CONFIG, DefinitionRegistry, DataSource, KAFKA],
    },
  ],
  exports: [CONFIG, DefinitionRegistry, DataSource, KAFKA],
})
export class OrchestratorModule {}

type Kafka = ReturnType<typeof createKafka>;
