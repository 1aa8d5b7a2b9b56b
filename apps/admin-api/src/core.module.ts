import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import {
  bootstrapStore,
  BullmqTimerWakeups,
  DefinitionRegistry,
  loadDefinitionModules,
  StartSaga,
} from '@sagaflow/runtime';
import { sampleDefinitions } from '@sagaflow/sample-order';
import { DataSource } from 'typeorm';
import { CONFIG, WAKEUPS } from './tokens';

/** What every feature module of the admin API shares: configuration, store, registry, timers. */
@Global()
@Module({
  providers: [
    { provide: CONFIG, useFactory: () => loadConfig() },
    {
      provide: DefinitionRegistry,
      useFactory: (c: SagaflowConfig) =>
        new DefinitionRegistry(loadDefinitionModules(c.definitionModules, sampleDefinitions)),
      inject: [CONFIG],
    },
    {
      provide: DataSource,
      useFactory: (config: SagaflowConfig, registry: DefinitionRegistry) =>
        bootstrapStore(config, registry, { migrate: false, applicationName: 'sagaflow-admin-api' }),
      inject: [CONFIG, DefinitionRegistry],
    },
    {
      provide: WAKEUPS,
      useFactory: (config: SagaflowConfig) =>
        new BullmqTimerWakeups({
          redisUrl: config.redisUrl,
          queueName: `${config.topicPrefix}sagaflow-timers`,
        }),
      inject: [CONFIG],
    },
    {
      provide: StartSaga,
      useFactory: (
        ds: DataSource,
        registry: DefinitionRegistry,
        config: SagaflowConfig,
        wakeups: BullmqTimerWakeups,
      ) => new StartSaga(ds, registry, config, wakeups),
      inject: [DataSource, DefinitionRegistry, CONFIG, WAKEUPS],
    },
  ],
  exports: [CONFIG, WAKEUPS, DefinitionRegistry, DataSource, StartSaga],
})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(WAKEUPS) private readonly wakeups: BullmqTimerWakeups) {}

  async onApplicationShutdown(): Promise<void> {
    await this.wakeups.close();
  }
}
