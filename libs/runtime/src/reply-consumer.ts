import { commitBatch, rawMessages } from './kafka-batch';
import { crashPoint } from '@sagaflow/config';
import { Logger } from '@sagaflow/observability';
import { ConsumerRestart, SelfHealingConsumer } from '@sagaflow/messaging';
import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { BatchResult, ReplyBatchProcessor } from './reply-batch-processor';

export interface ReplyConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  readonly onBatch?: (result: BatchResult) => void;
  /** See SagaflowConfig.consumerSessionTimeoutMs (default 30 s). */
  readonly sessionTimeoutMs?: number;
  /**
   * Told about every consumer crash (broker gone, coordinator moved, a batch that kept failing)
   * and whether kafkajs or this class restarts it. The consumer always comes back by itself.
   */
  readonly onCrash?: (error: unknown, restart: ConsumerRestart) => void;
  /** Longest wait between kafkajs retries and between rebuilds (default 5000 ms). */
  readonly maxRetryTimeMs?: number;
  /** Where crashes are logged when there is no `onCrash` (default: a line on stderr). */
  readonly logger?: Logger;
  /**
   * Partitions applied at the same time (default 4). Safe: replies are keyed by saga id, so
   * one saga's replies stay in one partition and in order; different partitions hold different
   * sagas, each batch is its own transaction, and offsets are committed per partition.
   */
  readonly partitionsConcurrently?: number;
}

/** Totals since start, for logs, metrics and tests. */
export interface ReplyTotals {
  applied: number;
  duplicates: number;
  ignored: number;
  parked: number;
  /** Consumer crashes seen (each one restarted, by kafkajs or by a rebuild). */
  crashes: number;
}

/**
 * The reply consumer group. Each fetched batch is applied in one database transaction and its
 * offsets are committed only after that commit; if the process dies in between, the batch is
 * fetched again and the inbox drops what was already applied.
 *
 * It never stays down while the process lives: a consumer kafkajs gave up on (e.g.
 * `KafkaJSGroupCoordinatorNotFound` or a protocol error while a broker restarts) is replaced
 * with a capped backoff until `stop()` (SelfHealingConsumer, shared with the participant kit).
 */
export class ReplyConsumer {
  private readonly member: SelfHealingConsumer;
  private readonly counts = { applied: 0, duplicates: 0, ignored: 0, parked: 0 };

  constructor(
    kafka: Kafka,
    private readonly processor: ReplyBatchProcessor,
    private readonly options: ReplyConsumerOptions,
  ) {
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    this.member = new SelfHealingConsumer(kafka, {
      groupId: options.groupId,
      timings: {
        sessionTimeout,
        rebalanceTimeout: Math.max(sessionTimeout, 10_000),
        heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
        maxRetryTime: options.maxRetryTimeMs ?? 5000,
      },
      runConsumer: async (consumer) => {
        await consumer.subscribe({ topic: options.topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: options.partitionsConcurrently ?? 4,
          eachBatch: (payload) => this.onBatch(consumer, payload),
        });
      },
      onCrash: (error, restart) => this.reportCrash(error, restart),
    });
  }

  /** Totals since start. */
  get totals(): ReplyTotals {
    return { ...this.counts, crashes: this.member.totals.crashes };
  }

  async start(): Promise<void> {
    await this.member.start();
  }

  async stop(): Promise<void> {
    await this.member.stop();
  }

  private reportCrash(error: unknown, restart: ConsumerRestart): void {
    if (this.options.onCrash) return this.options.onCrash(error, restart);
    const then = restart === 'kafkajs' ? 'kafkajs restarts it' : 'rebuilding it';
    if (this.options.logger)
      return this.options.logger.warn(
        { groupId: this.options.groupId, err: error, restart },
        `sagaflow reply consumer crashed; ${then}`,
      );
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(
      `sagaflow reply consumer (${this.options.groupId}): crashed (${reason}); ${then}\n`,
    );
  }

  private async onBatch(
    consumer: Consumer,
    { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload,
  ): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const result = await this.processor.process(rawMessages(batch));
    crashPoint('reply.afterCommitBeforeOffset');
    await commitBatch(consumer, batch, resolveOffset);
    await heartbeat();
    this.counts.applied += result.applied;
    this.counts.duplicates += result.duplicates;
    this.counts.ignored += result.ignored;
    this.counts.parked += result.parked;
    this.options.onBatch?.(result);
  }
}
