import {
  BeforeApplicationShutdown,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { SagaflowConfig } from '@sagaflow/config';
import { ensureTopics } from '@sagaflow/messaging';
import { SagaTelemetry } from '@sagaflow/observability';
import {
  DefinitionRegistry,
  StartEventConsumer,
  startEventSources,
  StartSaga,
  TimerWakeupSink,
} from '@sagaflow/runtime';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';

/**
 * Starts sagas from domain events: one consumer group (`<prefix>sagaflow-start-events`) over
 * the `startOn` topics of the latest definitions. Runs only when some definition has `startOn`.
 */
export class StartEventsService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('StartEvents');
  private consumer: StartEventConsumer | null = null;

  constructor(
    private readonly config: SagaflowConfig,
    private readonly registry: DefinitionRegistry,
    private readonly dataSource: DataSource,
    private readonly kafka: Kafka,
    private readonly wakeups: TimerWakeupSink,
    private readonly telemetry: SagaTelemetry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const sources = startEventSources(this.registry);
    if (sources.length === 0) {
      this.logger.log('no definition has startOn: the start-event consumer is not started');
      return;
    }
    const consumer = new StartEventConsumer(
      this.kafka,
      this.dataSource,
      this.registry,
      new StartSaga(this.dataSource, this.registry, this.config, this.wakeups, this.telemetry),
      {
        groupId: `${this.config.topicPrefix}sagaflow-start-events`,
        topicPrefix: this.config.topicPrefix,
        sessionTimeoutMs: this.config.consumerSessionTimeoutMs,
        telemetry: this.telemetry,
      },
    );
    await this.provisionTopics(consumer.topics);
    await consumer.start();
    this.consumer = consumer;
    const starts = sources.map((s) => `${s.sagaType} <- ${s.startOn.topic}`);
    this.logger.log(`start-event consumer ready (${starts.join(', ')})`);
  }

  /**
   * Nest runs the shutdown hooks of all providers at once, and OrchestratorService closes the
   * DataSource in its onApplicationShutdown; stopping here, one phase earlier, lets a batch in
   * flight finish its starts and commit its offsets first.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  private async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    if (!consumer) return;
    await consumer.stop();
    const t = consumer.totals;
    this.logger.log(
      `start events: started=${t.started} duplicates=${t.duplicates} parked=${t.parked}`,
    );
  }

  /** The start topics belong to the publishing domain; they are created only when missing. */
  private async provisionTopics(topics: readonly string[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, topics, this.config.topicPartitions);
    } finally {
      await admin.disconnect();
    }
  }
}
