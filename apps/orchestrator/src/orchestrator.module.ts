import { Logger, Module } from '@nestjs/common';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { createKafka } from '@sagaflow/messaging';
import { bootstrapStore, BullmqTimerWakeups, DefinitionRegistry } from '@sagaflow/runtime';
import { sampleDefinitions } from '@sagaflow/sample-order';
import { DataSource } from 'typeorm';
import { HealthController } from './health.controller';
import { OrchestratorService } from './orchestrator.service';
import { StartEventsService } from './start-events.service';
import { ReadinessService } from './readiness.service';
import { CONFIG, KAFKA, WAKEUPS } from './tokens';

const wakeupLogger = new Logger('TimerWakeups');

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
      // One BullMQ queue per deployment: every start, reply and timer announces the timers it armed.
      provide: WAKEUPS,
      useFactory: (c: SagaflowConfig) =>
        new BullmqTimerWakeups({
          redisUrl: c.redisUrl,
          queueName: `${c.topicPrefix}sagaflow-timers`,
          onError: (e) =>
            wakeupLogger.warn(
              `timer wake-ups (the sweep covers): ${e instanceof Error ? e.message : String(e)}`,
            ),
        }),
      inject: [CONFIG],
    },
    {
      provide: OrchestratorService,
      useFactory: (
        c: SagaflowConfig,
        r: DefinitionRegistry,
        d: DataSource,
        k: Kafka,
        w: BullmqTimerWakeups,
      ) => new OrchestratorService(c, r, d, k, w),
      inject: [CONFIG, DefinitionRegistry, DataSource, KAFKA, WAKEUPS],
    },
    {
      provide: StartEventsService,
      useFactory: (
        c: SagaflowConfig,
        r: DefinitionRegistry,
        d: DataSource,
        k: Kafka,
        w: BullmqTimerWakeups,
      ) => new StartEventsService(c, r, d, k, w),
      inject: [CONFIG, DefinitionRegistry, DataSource, KAFKA, WAKEUPS],
    },
    {
      provide: ReadinessService,
      useFactory: (d: DataSource, c: SagaflowConfig) => new ReadinessService(d, c.kafkaBrokers),
      inject: [DataSource, CONFIG],
    },
  ],
  exports: [CONFIG, DefinitionRegistry, DataSource, KAFKA],
})
export class OrchestratorModule {}

type Kafka = ReturnType<typeof createKafka>;
