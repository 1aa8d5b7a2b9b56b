import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SagaflowConfig } from '@sagaflow/config';
import { createIdempotentProducer, createKafka, ensureTopics } from '@sagaflow/messaging';
import {
  bootstrapStore,
  DefinitionRegistry,
  OutboxRelay,
  ReplyBatchProcessor,
  ReplyConsumer,
  TimerProcessor,
} from '@sagaflow/runtime';
import { Kafka, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';

/**
 * The orchestrator's moving parts: store bootstrap, topic provisioning, the outbox relay and
 * the reply consumer. No state that matters lives here; any number of these can run.
 */
@Injectable()
export class OrchestratorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Orchestrator');
  private dataSource: DataSource | null = null;
  private producer: Producer | null = null;
  private relay: OutboxRelay | null = null;
  private consumer: ReplyConsumer | null = null;
  private timers: TimerProcessor | null = null;
  private report: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: SagaflowConfig,
    private readonly registry: DefinitionRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const started = Date.now();
    this.dataSource = await bootstrapStore(this.config, this.registry, {
      migrate: true,
      applicationName: 'sagaflow-orchestrator',
    });
    const kafka = createKafka({
      brokers: this.config.kafkaBrokers,
      clientId: 'sagaflow-orchestrator',
    });
    await this.provisionTopics(kafka);
    this.producer = createIdempotentProducer(kafka);
    await this.producer.connect();
    this.relay = new OutboxRelay(this.dataSource, this.producer, {
      onError: (e) => this.logger.warn(`outbox relay: ${describe(e)}`),
    });
    this.relay.start();
    const processor = new ReplyBatchProcessor(this.dataSource, this.registry, this.config);
    this.consumer = new ReplyConsumer(kafka, processor, {
      groupId: `${this.config.topicPrefix}sagaflow-orchestrator`,
      topic: this.config.replyTopic,
      sessionTimeoutMs: this.config.consumerSessionTimeoutMs,
    });
    await this.consumer.start();
    this.timers = new TimerProcessor(this.dataSource, this.registry, this.config, {
      pollMs: this.config.timerPollMs,
      onError: (e) => this.logger.warn(`timers: ${describe(e)}`),
    });
    this.timers.start();
    this.report = setInterval(() => this.logTotals(), 10_000).unref();
    this.logger.log(
      `orchestrator ready in ${Date.now() - started} ms (definitions: ${this.registry
        .all()
        .map((d) => `${d.compiled.name}@${d.compiled.version}`)
        .join(', ')})`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.report) clearInterval(this.report);
    await this.timers?.stop();
    await this.consumer?.stop();
    await this.relay?.stop();
    await this.producer?.disconnect();
    await this.dataSource?.destroy();
    this.logTotals();
  }

  private async provisionTopics(kafka: Kafka): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = [
        this.config.replyTopic,
        ...this.registry.commandTopics().map((t) => `${this.config.topicPrefix}${t}`),
      ];
      await ensureTopics(admin, topics, this.config.topicPartitions);
    } finally {
      await admin.disconnect();
    }
  }

  private logTotals(): void {
    const t = this.consumer?.totals;
    if (t)
      this.logger.log(
        `replies applied=${t.applied} duplicates=${t.duplicates} ignored=${t.ignored} parked=${t.parked}; commands published=${this.relay?.published ?? 0}`,
      );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
