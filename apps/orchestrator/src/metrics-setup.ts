import { OnApplicationShutdown } from '@nestjs/common';
import { SagaflowConfig } from '@sagaflow/config';
import {
  ConsumerLagGauge,
  ProcessTelemetry,
  registerPoolGauge,
  registerStoreGauges,
} from '@sagaflow/observability';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';

/**
 * The orchestrator's scrape-time gauges on the process registry: store figures (outbox, timers,
 * parked messages), the pool, and the reply consumer group's lag. The saga counters start at 0
 * for every definition it runs. Flushes the telemetry (spans) last, at shutdown.
 */
export class MetricsSetup implements OnApplicationShutdown {
  private readonly lag: ConsumerLagGauge;

  constructor(
    private readonly telemetry: ProcessTelemetry,
    config: SagaflowConfig,
    registry: DefinitionRegistry,
    dataSource: DataSource,
    kafka: Kafka,
  ) {
    registerStoreGauges(telemetry.registry, dataSource);
    registerPoolGauge(telemetry.registry, dataSource);
    this.lag = new ConsumerLagGauge(kafka, telemetry.registry, {
      groupId: `${config.topicPrefix}sagaflow-orchestrator`,
      topic: config.replyTopic,
      onError: (error) =>
        telemetry.logger.warn({ err: error }, 'reply consumer lag: offsets unreadable'),
    });
    telemetry.telemetry.metrics?.registerDefinitions(registry.all().map((d) => d.compiled));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.lag.close();
    await this.telemetry.shutdown();
  }
}
