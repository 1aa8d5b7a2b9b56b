import { commitBatch, rawMessages } from './kafka-batch';
import { crashPoint } from '@sagaflow/config';
import { Logger } from '@sagaflow/observability';
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
  readonly onCrash?: (error: unknown, restart: 'kafkajs' | 'rebuild') => void;
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
 * It never stays down while the process lives. kafkajs restarts a consumer that crashed with a
 * retriable error (a batch that kept failing because PostgreSQL was gone, a broker that stayed
 * away through every retry); a crash it deems non-retriable (e.g. `KafkaJSGroupCoordinatorNotFound`
 * or a protocol error while a broker restarts) leaves it stopped for good, so then this class
 * builds a new consumer and joins the group again, with a capped backoff, until `stop()`.
 */
export class ReplyConsumer {
  private consumer: Consumer | null = null;
  private stopping = false;
  private rebuildTimer: NodeJS.Timeout | null = null;
  private rebuilding: Promise<void> | null = null;
  private rebuilds = 0;
  readonly totals: ReplyTotals = { applied: 0, duplicates: 0, ignored: 0, parked: 0, crashes: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly processor: ReplyBatchProcessor,
    private readonly options: ReplyConsumerOptions,
  ) {}

  async start(): Promise<void> {
    this.stopping = false;
    await this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    this.rebuildTimer = null;
    await this.rebuilding;
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.disconnect();
  }

  /** Creates, connects, subscribes and runs one kafkajs consumer. */
  private async run(): Promise<void> {
    const sessionTimeout = this.options.sessionTimeoutMs ?? 30_000;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 10_000),
      heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
      maxWaitTimeInMs: 50,
      // The client default (8 retries from 200 ms, doubling up to 30 s) can leave a consumer
      // asleep for half a minute after a dependency is back; cap the wait instead.
      retry: {
        initialRetryTime: 300,
        maxRetryTime: this.options.maxRetryTimeMs ?? 5000,
        retries: 10,
        restartOnFailure: async () => !this.stopping,
      },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.stopping || this.consumer !== consumer) return;
      this.totals.crashes++;
      this.reportCrash(payload.error, payload.restart ? 'kafkajs' : 'rebuild');
      if (!payload.restart) this.scheduleRebuild(consumer);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 4,
      eachBatch: (payload) => this.onBatch(consumer, payload),
    });
  }

  /** Replaces a consumer kafkajs gave up on; retried with a capped backoff until it runs. */
  private scheduleRebuild(dead: Consumer): void {
    if (this.stopping || this.consumer !== dead || this.rebuildTimer) return;
    const delay = Math.min(500 * 2 ** this.rebuilds, this.options.maxRetryTimeMs ?? 5000);
    this.rebuilds++;
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = null;
      this.rebuilding = this.rebuild(dead).finally(() => (this.rebuilding = null));
    }, delay);
  }

  private async rebuild(dead: Consumer): Promise<void> {
    if (this.stopping || this.consumer !== dead) return;
    // kafkajs has already disconnected it on the crash; bounded in case a half-dead one hangs.
    await Promise.race([
      dead.disconnect().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 5000).unref()),
    ]);
    try {
      await this.run();
      this.rebuilds = 0;
    } catch (error) {
      // connect or subscribe failed (the broker is still away): try again later
      const failed = this.consumer;
      this.reportCrash(error, 'rebuild');
      if (failed && !this.stopping) this.scheduleRebuild(failed);
    }
  }

  private reportCrash(error: unknown, restart: 'kafkajs' | 'rebuild'): void {
    if (this.options.onCrash) return this.options.onCrash(error, restart);
    const then = restart === 'kafkajs' ? 'kafkajs restarts it' : 'rebuilding it';
    if (this.options.logger)
      return this.options.logger.warn(
        { groupId: this.options.groupId, err: error, restart },
        `sagaflow reply consumer crashed; ${then}`,
      );
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(
      `sagaflow reply consumer (${this.options.groupId}): crashed (${reason}); ` +
        `${restart === 'kafkajs' ? 'kafkajs restarts it' : 'rebuilding it'}\n`,
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
    this.totals.applied += result.applied;
    this.totals.duplicates += result.duplicates;
    this.totals.ignored += result.ignored;
    this.totals.parked += result.parked;
    this.options.onBatch?.(result);
  }
}
