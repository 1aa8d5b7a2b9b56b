import { crashPoint } from '@sagaflow/config';
import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { BatchResult, ReplyBatchProcessor } from './reply-batch-processor';

export interface ReplyConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  readonly onBatch?: (result: BatchResult) => void;
  /** See SagaflowConfig.consumerSessionTimeoutMs (default 30 s). */
  readonly sessionTimeoutMs?: number;
}

/** Totals since start, for logs, metrics and tests. */
export interface ReplyTotals {
  applied: number;
  duplicates: number;
  ignored: number;
  parked: number;
}

/**
 * The reply consumer group. Each fetched batch is applied in one database transaction and its
 * offsets are committed only after that commit; if the process dies in between, the batch is
 * fetched again and the inbox drops what was already applied.
 */
export class ReplyConsumer {
  private consumer: Consumer | null = null;
  readonly totals: ReplyTotals = { applied: 0, duplicates: 0, ignored: 0, parked: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly processor: ReplyBatchProcessor,
    private readonly options: ReplyConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const sessionTimeout = this.options.sessionTimeoutMs ?? 30_000;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 10_000),
      heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
      maxWaitTimeInMs: 50,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const result = await this.processor.process(
      batch.messages.map((m) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key,
        headers: m.headers,
        value: m.value,
      })),
    );
    crashPoint('reply.afterCommitBeforeOffset');
    const last = batch.messages[batch.messages.length - 1]!.offset;
    await this.consumer!.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
    ]);
    resolveOffset(last);
    await heartbeat();
    this.totals.applied += result.applied;
    this.totals.duplicates += result.duplicates;
    this.totals.ignored += result.ignored;
    this.totals.parked += result.parked;
    this.options.onBatch?.(result);
  }
}
