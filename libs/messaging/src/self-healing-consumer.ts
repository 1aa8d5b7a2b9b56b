import { Consumer, Kafka } from 'kafkajs';

/** Who brings a crashed consumer back: kafkajs itself, or a new consumer built by this class. */
export type ConsumerRestart = 'kafkajs' | 'rebuild';

/** Resolved timings of one consumer group member. */
export interface ConsumerTimings {
  readonly sessionTimeout: number;
  readonly heartbeatInterval: number;
  readonly rebalanceTimeout: number;
  /** Longest wait between kafkajs retries, and between rebuilds. */
  readonly maxRetryTime: number;
}

export interface SelfHealingConsumerOptions {
  readonly groupId: string;
  readonly timings: ConsumerTimings;
  /** Subscribes the fresh consumer and calls `consumer.run(…)`: once per consumer life. */
  readonly runConsumer: (consumer: Consumer) => Promise<void>;
  /** Told about every crash (and failed rebuild), and who restarts the consumer. */
  readonly onCrash: (error: unknown, restart: ConsumerRestart) => void;
}

const FIRST_REBUILD_DELAY_MS = 500;
/** A crashed consumer is disconnected before its successor starts; a half-dead one may hang. */
const DISCONNECT_BOUND_MS = 5000;

/**
 * A consumer group member that never stays down while the process lives, shared by the
 * orchestrator's reply consumer and the participant kit. kafkajs restarts a consumer that
 * crashed with a retriable error (a handler that kept failing, a broker that stayed away through
 * every retry); a crash it deems non-retriable (after a broker restart "The coordinator is not
 * aware of this member", a protocol error while partitions move) leaves it stopped for good.
 * Then this class disconnects that consumer and builds a new one, after 0.5 s doubling up to
 * `maxRetryTime`, until it runs or `stop()` is called. The backoff starts again once a consumer
 * has joined its group.
 *
 * @example
 * const member = new SelfHealingConsumer(kafka, {
 *   groupId: 'audit',
 *   timings: { sessionTimeout: 10_000, heartbeatInterval: 3000, rebalanceTimeout: 10_000, maxRetryTime: 5000 },
 *   runConsumer: async (c) => { await c.subscribe({ topics: ['audit.events'] }); await c.run({ eachMessage }); },
 *   onCrash: (error, restart) => log.warn({ err: error, restart }, 'audit consumer crashed'),
 * });
 * await member.start(); // … and `await member.stop()` on shutdown
 */
export class SelfHealingConsumer {
  private consumer: Consumer | null = null;
  private stopping = false;
  private rebuildTimer: NodeJS.Timeout | null = null;
  private rebuilding: Promise<void> | null = null;
  private failedRebuilds = 0;
  /** Crashes seen and consumers rebuilt since start, for logs, metrics and tests. */
  readonly totals = { crashes: 0, rebuilds: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly options: SelfHealingConsumerOptions,
  ) {}

  async start(): Promise<void> {
    this.stopping = false;
    await this.run();
  }

  /** Stops for good: no rebuild is scheduled after this, and a pending one is cancelled. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    this.rebuildTimer = null;
    await this.rebuilding;
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.disconnect();
  }

  /** Creates and connects one kafkajs consumer, then lets the owner subscribe and run it. */
  private async run(): Promise<void> {
    const { sessionTimeout, heartbeatInterval, rebalanceTimeout, maxRetryTime } =
      this.options.timings;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout,
      heartbeatInterval,
      rebalanceTimeout,
      maxWaitTimeInMs: 50,
      // The client default (8 retries from 200 ms, doubling up to 30 s) can leave a consumer
      // asleep for half a minute after a dependency is back; cap the wait instead.
      retry: {
        initialRetryTime: 300,
        maxRetryTime,
        retries: 10,
        restartOnFailure: async () => !this.stopping,
      },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.stopping || this.consumer !== consumer) return;
      this.totals.crashes++;
      this.options.onCrash(payload.error, payload.restart ? 'kafkajs' : 'rebuild');
      if (!payload.restart) this.scheduleRebuild(consumer);
    });
    consumer.on(consumer.events.GROUP_JOIN, () => (this.failedRebuilds = 0));
    await consumer.connect();
    await this.options.runConsumer(consumer);
  }

  private scheduleRebuild(dead: Consumer): void {
    if (this.stopping || this.consumer !== dead || this.rebuildTimer) return;
    const delay = Math.min(
      FIRST_REBUILD_DELAY_MS * 2 ** this.failedRebuilds,
      this.options.timings.maxRetryTime,
    );
    this.failedRebuilds++;
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = null;
      this.rebuilding = this.rebuild(dead).finally(() => (this.rebuilding = null));
    }, delay);
  }

  private async rebuild(dead: Consumer): Promise<void> {
    if (this.stopping || this.consumer !== dead) return;
    // kafkajs disconnected it when it crashed; bounded in case a half-dead one hangs.
    await Promise.race([
      dead.disconnect().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, DISCONNECT_BOUND_MS).unref()),
    ]);
    try {
      this.totals.rebuilds++;
      await this.run();
    } catch (error) {
      // connect or subscribe failed (the broker is still away): drop it, try again later
      const failed = this.consumer;
      this.options.onCrash(error, 'rebuild');
      if (failed && !this.stopping) this.scheduleRebuild(failed);
    }
  }
}
