import { crashPoint } from '@sagaflow/config';
import { processTelemetry, SagaTelemetry } from '@sagaflow/observability';
import { ClaimedMessage, OutboxRepository, withTransaction } from '@sagaflow/persistence';
import { Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { PollingLoop } from './polling-loop';

export interface OutboxRelayOptions {
  /** Rows claimed and published per round trip. */
  readonly batchSize?: number;
  /** Sleep when the outbox is empty; a full batch loops at once. */
  readonly idleMs?: number;
  readonly onError?: (error: unknown) => void;
  /**
   * Builds a connected producer to replace one the broker no longer accepts (see
   * `isProducerFenced`). Without it such a producer fails every batch until the process restarts.
   */
  readonly renewProducer?: (broken: Producer) => Promise<Producer>;
  /** Told what was published (it starts the step clocks); default: the process's telemetry. */
  readonly telemetry?: SagaTelemetry;
}

/**
 * Errors after which an idempotent producer never succeeds again: the broker's sequence or
 * producer-id state no longer matches the client's (seen after a broker restart: a batch the
 * client counted was not kept, so every later batch is "out of order"). Only a new producer id
 * helps. The failed batch's rows stay in the outbox and go out with the new producer.
 */
export function isProducerFenced(error: unknown): boolean {
  const fatal = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'];
  const seen = new Set<unknown>();
  const visit = (e: unknown): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const { type, cause, errors } = e as { type?: unknown; cause?: unknown; errors?: unknown };
    if (typeof type === 'string' && fatal.includes(type)) return true;
    return visit(cause) || (Array.isArray(errors) && errors.some(visit));
  };
  return visit(error);
}

/**
 * Publishes the outbox: claim rows (SKIP LOCKED), send them in one batch with the idempotent
 * producer, delete them, commit. A crash between send and commit only re-publishes, which the
 * participants' idempotency keys and the orchestrator's inbox absorb.
 */
export class OutboxRelay {
  private readonly outbox = new OutboxRepository();
  private readonly loop: PollingLoop;
  private readonly batchSize: number;
  published = 0;

  constructor(
    private readonly dataSource: DataSource,
    private producer: Producer,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.loop = new PollingLoop(() => this.relayOnce(), {
      batchSize: this.batchSize,
      idleMs: options.idleMs ?? 20,
      onError: options.onError,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Publishes one batch; returns how many rows it sent. */
  async relayOnce(): Promise<number> {
    try {
      return await this.publishOnce();
    } catch (error) {
      if (this.options.renewProducer && isProducerFenced(error)) {
        this.producer = await this.options.renewProducer(this.producer);
        this.producersRenewed++;
      }
      throw error;
    }
  }

  /** Producers replaced after the broker stopped accepting the previous one. */
  producersRenewed = 0;

  private async publishOnce(): Promise<number> {
    return withTransaction(this.dataSource, async (sql) => {
      const claimed = await this.outbox.claim(sql, this.batchSize);
      if (claimed.length === 0) return 0;
      await this.producer.sendBatch({ acks: -1, topicMessages: byTopic(claimed) });
      // On the wire now, whatever the commit does (a rollback only sends them again).
      (this.options.telemetry ?? processTelemetry()).published(claimed);
      crashPoint('relay.afterPublish');
      await this.outbox.remove(
        sql,
        claimed.map((m) => m.seq),
      );
      this.published += claimed.length;
      return claimed.length;
    });
  }
}

function byTopic(messages: readonly ClaimedMessage[]) {
  const topics = new Map<
    string,
    Array<{ key: string; value: string; headers: Record<string, string> }>
  >();
  for (const m of messages) {
    const list = topics.get(m.topic) ?? [];
    list.push({ key: m.key, value: JSON.stringify(m.body), headers: m.headers });
    topics.set(m.topic, list);
  }
  return [...topics].map(([topic, list]) => ({ topic, messages: list }));
}
