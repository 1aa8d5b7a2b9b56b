import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SagaflowConfig } from '@sagaflow/config';
import { createIdempotentProducer, ensureTopics } from '@sagaflow/messaging';
import { SagaTelemetry } from '@sagaflow/observability';
import {
  BullmqTimerWakeups,
  DefinitionRegistry,
  OutboxRelay,
  ReplyBatchProcessor,
  ReplyConsumer,
  sagaflowTopics,
  TimerProcessor,
} from '@sagaflow/runtime';
import { Kafka, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';

/**
 * The orchestrator's core loop: topic provisioning, the outbox relay, the reply consumer and
 * the timers. No state that matters lives here; any number of these processes can run.
 */
export class OrchestratorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Orchestrator');
  private producer: Producer | null = null;
  private relay: OutboxRelay | null = null;
  private consumer: ReplyConsumer | null = null;
  private timers: TimerProcessor | null = null;
  private report: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: SagaflowConfig,
    private readonly registry: DefinitionRegistry,
    private readonly dataSource: DataSource,
    private readonly kafka: Kafka,
    private readonly wakeups: BullmqTimerWakeups,
    private readonly telemetry: SagaTelemetry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const started = Date.now();
    await this.provisionTopics();
    this.producer = createIdempotentProducer(this.kafka);
    await this.producer.connect();
    this.relay = new OutboxRelay(this.dataSource, this.producer, {
      onError: (e) => this.logger.warn(`outbox relay: ${describe(e)}`),
      renewProducer: async (broken) => {
        this.logger.warn('outbox relay: the broker fenced the producer; replacing it');
        // Connect the new one first: if that fails, the relay keeps the old one and tries again.
        const fresh = createIdempotentProducer(this.kafka);
        await fresh.connect();
        this.producer = fresh;
        await broken.disconnect().catch(() => undefined);
        return fresh;
      },
      telemetry: this.telemetry,
    });
    this.relay.start();
    const processor = new ReplyBatchProcessor(
      this.dataSource,
      this.registry,
      this.config,
      this.wakeups,
      this.telemetry,
    );
    this.consumer = new ReplyConsumer(this.kafka, processor, {
      groupId: `${this.config.topicPrefix}sagaflow-orchestrator`,
      topic: this.config.replyTopic,
      sessionTimeoutMs: this.config.consumerSessionTimeoutMs,
      logger: this.telemetry.logger,
    });
    await this.consumer.start();
    this.timers = new TimerProcessor(this.dataSource, this.registry, this.config, {
      pollMs: this.config.timerPollMs,
      wakeups: this.wakeups,
      onError: (e) => this.logger.warn(`timers: ${describe(e)}`),
      telemetry: this.telemetry,
    });
    const timers = this.timers;
    this.wakeups.startWorker((key) => timers.fireKeys([key]));
    this.timers.start();
    this.report = setInterval(() => this.logTotals(), 10_000).unref();
    const definitions = this.registry.all().map((d) => `${d.compiled.name}@${d.compiled.version}`);
    this.logger.log(
      `orchestrator ready in ${Date.now() - started} ms (definitions: ${definitions.join(', ')})`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.report) clearInterval(this.report);
    await this.wakeups.close();
    await this.timers?.stop();
    await this.consumer?.stop();
    await this.relay?.stop();
    await this.producer?.disconnect();
    await this.dataSource.destroy();
    this.logTotals();
  }

  private async provisionTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const topics = sagaflowTopics(this.config, this.registry);
      await ensureTopics(admin, topics, this.config.topicPartitions);
    } finally {
      await admin.disconnect();
    }
  }

  private logTotals(): void {
    const r = this.consumer?.totals;
    const t = this.timers?.totals;
    if (!r || !t) return;
    this.logger.log(
      `replies applied=${r.applied} duplicates=${r.duplicates} ignored=${r.ignored} parked=${r.parked}; ` +
        `commands published=${this.relay?.published ?? 0}; timers fired=${t.fired} stale=${t.ignored}`,
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
