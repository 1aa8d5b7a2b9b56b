import { EachMessagePayload, Kafka } from 'kafkajs';
import { Pool } from 'pg';
import {
  decodeCommand,
  encodeReply,
  headersToStrings,
  HEADERS,
  ReplyEnvelope,
} from '@sagaflow/messaging';
import { HandlerRegistration } from './command-handler';
import { CommandProcessor } from './command-processor';
import {
  consumerTimings,
  logRecovery,
  ParticipantConsumer,
  ParticipantKafkaSettings,
} from './participant-consumer';
import { ProcessedCommandStore } from './processed-command.store';
import { ReplyProducer } from './reply-producer';

export interface ParticipantOptions extends ParticipantKafkaSettings {
  readonly kafka: Kafka;
  /** The participant's own database (it may be the same server, never the same schema). */
  readonly pool: Pool;
  /** Schema for the processed-command table, e.g. `inventory`. */
  readonly schema: string;
  readonly groupId: string;
  /** Command topics to consume, with the deployment's prefix applied. */
  readonly topics: readonly string[];
  readonly handlers: readonly HandlerRegistration[];
  /** Partitions processed at once (default 4). */
  readonly concurrency?: number;
  /** Called for a command whose envelope cannot be read (it is skipped, never retried forever). */
  readonly onMalformed?: (reason: string, topic: string, offset: string) => void;
}

/**
 * A participant for plain Node services: consumes its command topics, applies each command
 * once per idempotency key (CommandProcessor) and publishes the reply to the command's reply topic.
 *
 * It rides out broker restarts and outages by itself until `stop()`: a consumer kafkajs gave
 * up on is rebuilt (ParticipantConsumer) and a reply producer the broker fenced is replaced
 * (ReplyProducer); `sessionTimeoutMs` bounds how long a restarted group waits for a member
 * that crashed. A command whose reply could not be sent is delivered again and its stored
 * reply replayed, so nothing is applied twice.
 *
 * @example
 * const service = new ParticipantService({ kafka, pool, schema: 'credit', groupId: 'credit',
 *   topics: ['credit.commands'], handlers: [handle(ReserveCredit, reserve), handle(ReleaseCredit, release)],
 *   sessionTimeoutMs: config.consumerSessionTimeoutMs });
 * await service.start();
 */
export class ParticipantService {
  private readonly processor: CommandProcessor;
  private readonly store: ProcessedCommandStore;
  private consumer: ParticipantConsumer | null = null;
  private producer: ReplyProducer | null = null;

  constructor(private readonly options: ParticipantOptions) {
    consumerTimings(options); // fail fast on impossible timings, before anything connects
    this.store = new ProcessedCommandStore(options.schema);
    this.processor = new CommandProcessor(options.pool, this.store, options.handlers);
    // pg re-emits an idle connection's end (server restart, terminated backend) on the pool, and an
    // 'error' event nobody listens to kills the process. The pool opens a new connection on the
    // next checkout, so losing an idle one is only worth a line on stderr.
    if (options.pool.listenerCount('error') === 0) options.pool.on('error', idleConnectionLost);
  }

  /** Crashes seen, consumers rebuilt and reply producers replaced since start. */
  get totals(): { crashes: number; rebuilds: number; newProducers: number } {
    return {
      crashes: this.consumer?.totals.crashes ?? 0,
      rebuilds: this.consumer?.totals.rebuilds ?? 0,
      newProducers: this.producer?.renewals ?? 0,
    };
  }

  async start(): Promise<void> {
    const client = await this.options.pool.connect();
    try {
      await this.store.ensureSchema(client);
    } finally {
      client.release();
    }
    const { kafka, groupId, topics, sessionTimeoutMs, heartbeatIntervalMs, maxRetryTimeMs } =
      this.options;
    const onCrash = this.options.onCrash ?? logRecovery(groupId);
    this.producer = new ReplyProducer(kafka, { maxRetryTimeMs, onRenew: onCrash });
    await this.producer.connect();
    this.consumer = new ParticipantConsumer(kafka, {
      groupId,
      topics,
      sessionTimeoutMs,
      heartbeatIntervalMs,
      maxRetryTimeMs,
      onCrash,
      concurrency: this.options.concurrency ?? 4,
      eachMessage: (payload) => this.onMessage(payload),
    });
    await this.consumer.start();
  }

  private async onMessage({ topic, message }: EachMessagePayload): Promise<void> {
    const decoded = decodeCommand(message.value);
    if (!decoded.ok) {
      (this.options.onMalformed ?? defaultMalformed)(decoded.reason, topic, message.offset);
      return;
    }
    // The handler runs in a span of the command's trace; the reply carries that span on.
    const { reply, traceparent } = await this.processor.processTraced(
      decoded.value,
      headersToStrings(message.headers)[HEADERS.traceparent],
    );
    if (!decoded.value.expectsReply) return this.settleNotification(reply, topic, message.offset);
    const wire = encodeReply(reply, decoded.value.replyTopic, traceparent);
    await this.producer!.send({
      topic: wire.topic,
      acks: -1,
      messages: [{ key: wire.key, value: JSON.stringify(wire.body), headers: wire.headers }],
    });
  }

  /**
   * A notification is never answered, so nobody would retry it: a transient failure throws,
   * which leaves the offset uncommitted and has Kafka deliver it again; a rejection is reported.
   */
  private settleNotification(reply: ReplyEnvelope, topic: string, offset: string): void {
    if (reply.outcome === 'success') return;
    const where = `${reply.step} (${topic}@${offset})`;
    if (reply.failure.retryable)
      throw new Error(
        `notification ${where} failed transiently, will be delivered again: ${reply.failure.message}`,
      );
    (this.options.onMalformed ?? defaultMalformed)(
      `notification rejected: ${reply.failure.type}: ${reply.failure.message}`,
      topic,
      offset,
    );
  }

  /** Stops for good: the consumer leaves its group and is never rebuilt. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.producer?.disconnect();
    this.consumer = null;
    this.producer = null;
  }
}

function idleConnectionLost(error: Error): void {
  process.stderr.write(
    `sagaflow participant: an idle database connection ended: ${error.message}\n`,
  );
}

function defaultMalformed(reason: string, topic: string, offset: string): void {
  process.stderr.write(
    `sagaflow participant: skipped malformed command at ${topic}@${offset}: ${reason}\n`,
  );
}
