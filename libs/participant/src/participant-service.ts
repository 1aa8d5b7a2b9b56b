import { Consumer, Kafka, Producer } from 'kafkajs';
import { Pool } from 'pg';
import {
  createIdempotentProducer,
  decodeCommand,
  encodeReply,
  headersToStrings,
  HEADERS,
  ReplyEnvelope,
} from '@sagaflow/messaging';
import { HandlerRegistration } from './command-handler';
import { CommandProcessor } from './command-processor';
import { ProcessedCommandStore } from './processed-command.store';

export interface ParticipantOptions {
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
 * @example
 * const service = new ParticipantService({ kafka, pool, schema: 'credit', groupId: 'credit',
 *   topics: ['credit.commands'], handlers: [handle(ReserveCredit, reserve), handle(ReleaseCredit, release)] });
 * await service.start();
 */
export class ParticipantService {
  private readonly processor: CommandProcessor;
  private readonly store: ProcessedCommandStore;
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;

  constructor(private readonly options: ParticipantOptions) {
    this.store = new ProcessedCommandStore(options.schema);
    this.processor = new CommandProcessor(options.pool, this.store, options.handlers);
  }

  async start(): Promise<void> {
    const client = await this.options.pool.connect();
    try {
      await this.store.ensureSchema(client);
    } finally {
      client.release();
    }
    this.producer = createIdempotentProducer(this.options.kafka);
    await this.producer.connect();
    this.consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      maxWaitTimeInMs: 50,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.options.concurrency ?? 4,
      eachMessage: async ({ topic, message }) => {
        const decoded = decodeCommand(message.value);
        if (!decoded.ok) {
          (this.options.onMalformed ?? defaultMalformed)(decoded.reason, topic, message.offset);
          return;
        }
        const reply = await this.processor.process(decoded.value);
        if (!decoded.value.expectsReply)
          return this.settleNotification(reply, topic, message.offset);
        const traceparent = headersToStrings(message.headers)[HEADERS.traceparent];
        const wire = encodeReply(reply, decoded.value.replyTopic, traceparent);
        await this.producer!.send({
          topic: wire.topic,
          acks: -1,
          messages: [{ key: wire.key, value: JSON.stringify(wire.body), headers: wire.headers }],
        });
      },
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

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    this.consumer = null;
    this.producer = null;
  }
}

function defaultMalformed(reason: string, topic: string, offset: string): void {
  process.stderr.write(
    `sagaflow participant: skipped malformed command at ${topic}@${offset}: ${reason}\n`,
  );
}
