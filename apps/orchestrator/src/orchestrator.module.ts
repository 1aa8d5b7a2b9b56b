import { Logger, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { createKafka } from '@sagaflow/messaging';
import {
  createProcessTelemetry,
  HealthController,
  METRICS_REGISTRY,
  MetricsController,
  ProcessTelemetry,
  READINESS_PROBES,
} from '@sagaflow/observability';
import {
  bootstrapStore,
  BullmqTimerWakeups,
  DefinitionRegistry,
  loadDefinitionModules,
} from '@sagaflow/runtime';
import { sampleDefinitions } from '@sagaflow/sample-order';
import { DataSource } from 'typeorm';
import { MetricsSetup } from './metrics-setup';
import { OrchestratorService } from './orchestrator.service';
import { ReadinessProbes } from './readiness-probes';
import { StartEventsService } from './start-events.service';
import { CONFIG, KAFKA, PROCESS_TELEMETRY, WAKEUPS } from './tokens';

const wakeupLogger = new Logger('TimerWakeups');

/**
 * The orchestrator: one DataSource (migrated at startup under an advisory lock) and one Kafka
 * client shared by its services, one telemetry (JSON logs, metrics registry, tracer) for the
 * process. Each moving part is its own provider.
 */
@Module({
  // Probes fail while a dependency is away; readiness says so, terminus need not log each one.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [
    { provide: CONFIG, useFactory: () => loadConfig() },
    {
      provide: PROCESS_TELEMETRY,
      useFactory: () => createProcessTelemetry({ serviceName: 'sagaflow-orchestrator' }),
    },
    {
      provide: METRICS_REGISTRY,
      useFactory: (t: ProcessTelemetry) => t.registry,
      inject: [PROCESS_TELEMETRY],
    },
    {
      provide: DefinitionRegistry,
      useFactory: (c: SagaflowConfig) =>
        new DefinitionRegistry(loadDefinitionModules(c.definitionModules, sampleDefinitions)),
      inject: [CONFIG],
    },
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
        t: ProcessTelemetry,
      ) => new OrchestratorService(c, r, d, k, w, t.telemetry),
      inject: [CONFIG, DefinitionRegistry, DataSource, KAFKA, WAKEUPS, PROCESS_TELEMETRY],
    },
    {
      provide: StartEventsService,
      useFactory: (
        c: SagaflowConfig,
        r: DefinitionRegistry,
        d: DataSource,
        k: Kafka,
        w: BullmqTimerWakeups,
        t: ProcessTelemetry,
      ) => new StartEventsService(c, r, d, k, w, t.telemetry),
      inject: [CONFIG, DefinitionRegistry, DataSource, KAFKA, WAKEUPS, PROCESS_TELEMETRY],
    },
    {
      provide: ReadinessProbes,
      useFactory: (d: DataSource, c: SagaflowConfig) => new ReadinessProbes(d, c),
      inject: [DataSource, CONFIG],
    },
    { provide: READINESS_PROBES, useExisting: ReadinessProbes },
    {
      provide: MetricsSetup,
      useFactory: (
        t: ProcessTelemetry,
        c: SagaflowConfig,
        r: DefinitionRegistry,
        d: DataSource,
        k: Kafka,
      ) => new MetricsSetup(t, c, r, d, k),
      inject: [PROCESS_TELEMETRY, CONFIG, DefinitionRegistry, DataSource, KAFKA],
    },
  ],
  exports: [CONFIG, DefinitionRegistry, DataSource, KAFKA, PROCESS_TELEMETRY],
})
export class OrchestratorModule {}

type Kafka = ReturnType<typeof createKafka>;
