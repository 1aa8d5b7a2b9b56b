import { Admin, Kafka } from 'kafkajs';
import { Gauge, Registry } from 'prom-client';

export interface ConsumerLagOptions {
  readonly groupId: string;
  readonly topic: string;
  /** How long one reading of the offsets is reused (default 5000 ms): scrapes stay cheap. */
  readonly cacheMs?: number;
  /** Told when the offsets cannot be read (the last figures are kept). */
  readonly onError?: (error: unknown) => void;
}

/** Lag of one partition: messages after the group's committed offset. */
export interface PartitionLag {
  readonly partition: number;
  readonly lag: number;
}

/**
 * `sagaflow_reply_consumer_lag{topic,partition}`: the end offset of each partition of the reply
 * topic minus the consumer group's committed offset (a partition the group never committed
 * counts from its earliest offset). Read on scrape with a kafkajs admin client of its own, cached
 * for `cacheMs`; every orchestrator of the group reports the same figures (use `max`).
 *
 * @example
 * const lag = new ConsumerLagGauge(kafka, registry, { groupId, topic: config.replyTopic });
 * // on shutdown: await lag.close();
 */
export class ConsumerLagGauge {
  private admin: Admin | null = null;
  private cached: { at: number; value: Promise<PartitionLag[]> } | null = null;

  constructor(
    private readonly kafka: Kafka,
    registry: Registry,
    private readonly options: ConsumerLagOptions,
  ) {
    const read = () => this.read();
    const { topic, onError } = options;
    new Gauge({
      name: 'sagaflow_reply_consumer_lag',
      help: 'Replies not yet consumed by the orchestrators, by topic and partition.',
      labelNames: ['topic', 'partition'],
      registers: [registry],
      async collect() {
        const lags = await read().catch((error: unknown) => {
          onError?.(error);
          return null;
        });
        for (const { partition, lag } of lags ?? [])
          this.set({ topic, partition: String(partition) }, lag);
      },
    });
  }

  /** The lag of every partition, from the cache when it is fresh enough. */
  read(): Promise<PartitionLag[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > (this.options.cacheMs ?? 5000)) {
      const value = this.fetch();
      value.catch(() => {
        // a failed reading is not reused, and the next one starts from a fresh connection
        this.cached = null;
        void this.close();
      });
      this.cached = { at: now, value };
    }
    return this.cached.value;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.disconnect().catch(() => undefined);
  }

  private async fetch(): Promise<PartitionLag[]> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const { topic, groupId } = this.options;
    const [ends, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(topic),
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const done = new Map(
      (committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
    );
    return ends.map((p) => {
      const from = done.get(p.partition) ?? -1n;
      const start = from < 0n ? BigInt(p.low) : from;
      const lag = BigInt(p.high) - start;
      return { partition: p.partition, lag: Number(lag > 0n ? lag : 0n) };
    });
  }
}
