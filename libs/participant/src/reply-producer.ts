import { Kafka, Partitioners, Producer, ProducerRecord } from 'kafkajs';
import { ParticipantRecovery } from './participant-consumer';

export interface ReplyProducerOptions {
  /** Longest wait between kafkajs' send retries (default 5000 ms). */
  readonly maxRetryTimeMs?: number;
  /** Told when a producer is replaced, with the error that condemned it. */
  readonly onRenew?: (error: unknown, recovery: ParticipantRecovery) => void;
}

/** Errors after which an idempotent producer never succeeds again; see `isProducerFenced`. */
const FENCED = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'];

/**
 * True when the broker no longer accepts this idempotent producer (seen after a broker
 * restart: a batch the client counted was not kept, so every later batch is "out of order")
 * or when kafkajs gave up retrying a send: kafkajs rolls its sequence number back on a failed
 * send, so if that batch did reach the log, the broker would take the next, different batch
 * at the same number for a duplicate and drop it. Only a new producer id is safe after either.
 * (Same rule as the relay's `isProducerFenced` in `@sagaflow/runtime`, plus the give-up.)
 */
export function needsNewProducer(error: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const { type, name, cause, errors } = e as Record<string, unknown>;
    if (typeof type === 'string' && FENCED.includes(type)) return true;
    if (name === 'KafkaJSNumberOfRetriesExceeded') return true;
    return visit(cause) || (Array.isArray(errors) && errors.some(visit));
  };
  return visit(error);
}

/**
 * The participant's reply producer: idempotent (`acks=-1`, one request in flight). A send that
 * fails with an error `needsNewProducer` names marks the producer stale; the next send first
 * connects a fresh one (new producer id) and drops the old. The failed send still throws, so
 * the command is delivered again and its stored reply replayed through the new producer.
 */
export class ReplyProducer {
  private producer: Producer;
  private stale: unknown = null;
  /** Producers replaced since start. */
  renewals = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ReplyProducerOptions = {},
  ) {
    this.producer = this.create();
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(record: ProducerRecord): Promise<void> {
    if (this.stale) await this.renew();
    try {
      await this.producer.send(record);
    } catch (error) {
      if (needsNewProducer(error)) this.stale = error;
      throw error;
    }
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Connects the new producer first: if that fails, the old one stays marked and is replaced later. */
  private async renew(): Promise<void> {
    const fresh = this.create();
    try {
      await fresh.connect();
    } catch (error) {
      await fresh.disconnect().catch(() => undefined);
      throw error;
    }
    const broken = this.producer;
    const reason = this.stale;
    this.producer = fresh;
    this.stale = null;
    this.renewals++;
    this.options.onRenew?.(reason, 'new-producer');
    await broken.disconnect().catch(() => undefined);
  }

  private create(): Producer {
    const maxRetryTime = this.options.maxRetryTimeMs ?? 5000;
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // The client's 8 retries, but at most maxRetryTime apart instead of 30 s, so a send
      // resumes soon after the broker is back. A send that gives up throws (the command is
      // delivered again) and condemns the producer (needsNewProducer).
      retry: { initialRetryTime: 300, maxRetryTime, retries: 8 },
    });
  }
}
