import { Module } from '@nestjs/common';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { bootstrapStore, DefinitionRegistry, StartSaga } from '@sagaflow/runtime';
import { sampleDefinitions } from '@sagaflow/sample-order';
import { DataSource } from 'typeorm';
import { HealthController } from './health.controller';
import { SagasController } from './sagas/sagas.controller';

export const CONFIG = 'SAGAFLOW_CONFIG';

@Module({
  controllers: [HealthController, SagasController],
  providers: [
    { provide: CONFIG, useFactory: () => loadConfig() },
    { provide: DefinitionRegistry, useFactory: () => new DefinitionRegistry(sampleDefinitions) },
    {
      provide: DataSource,
      useFactory: (config: SagaflowConfig, registry: DefinitionRegistry) =>
        bootstrapStore(config, registry, { migrate: false, applicationName: 'sagaflow-admin-api' }),
      inject: [CONFIG, DefinitionRegistry],
    },
    {
      provide: StartSaga,
      useFactory: (ds: DataSource, registry: DefinitionRegistry, config: SagaflowConfig) =>
        new StartSaga(ds, registry, config),
      inject: [DataSource, DefinitionRegistry, CONFIG],
    },
  ],
})
export class AdminApiModule {}
