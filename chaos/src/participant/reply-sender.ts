import { encodeReply, ReplyEnvelope } from '@sagaflow/messaging';
import { Kafka, Partitioners, Producer } from 'kafkajs';

/**
 * The reply producer (idempotent, murmur2 keyed by saga id). After a failed send the producer
 * is replaced before the next one: a broker restart can fence an idempotent producer for good
 * (OUT_OF_ORDER_SEQUENCE_NUMBER), and the command is delivered again anyway, so a new producer
 * id is the simple safe answer.
 */
export class ReplySender {
  private producer: Promise<Producer> | null = null;

  constructor(private readonly kafka: Kafka) {}

  async send(reply: ReplyEnvelope, topic: string, traceparent: string | undefined): Promise<void> {
    const wire = encodeReply(reply, topic, traceparent);
    const current = this.connected();
    const producer = await current;
    try {
      await producer.send({
        topic: wire.topic,
        acks: -1,
        messages: [{ key: wire.key, value: JSON.stringify(wire.body), headers: wire.headers }],
      });
    } catch (error) {
      if (this.producer === current) this.producer = null;
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    const current = this.producer;
    this.producer = null;
    await current?.then((p) => p.disconnect()).catch(() => undefined);
  }

  /** The current producer, connecting a new one if needed (one at a time for all partitions). */
  private connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8 },
    });
    const connecting = producer.connect().then(() => producer);
    this.producer = connecting;
    // A failed connect is forgotten, so the next send tries a new producer.
    connecting.catch(() => {
      if (this.producer === connecting) this.producer = null;
    });
    return connecting;
  }
}
