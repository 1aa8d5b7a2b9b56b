import { Consumer, EachMessageHandler, Kafka } from 'kafkajs';
import { InvalidParticipantOptionsError } from './participant-errors';

/** Who brings a participant's Kafka client back after a failure. */
export type ParticipantRecovery =
  /** kafkajs restarts the consumer itself (a retriable crash). */
  | 'kafkajs'
  /** The kit replaces a consumer kafkajs gave up on (or failed to rebuild). */
  | 'rebuild'
  /** The kit replaces a reply producer the broker fenced or kafkajs gave up on. */
  | 'new-producer';

/** How a participant's consumer group behaves when a member or a broker goes away. */
export interface ParticipantKafkaSettings {
  /**
   * How long the broker waits for a silent member before handing its partitions to another
   * one; after a broker restart, also how long a rejoining group waits for a member that
   * crashed and could not leave. Same meaning and default as the orchestrator's
   * `SAGAFLOW_CONSUMER_SESSION_TIMEOUT_MS` (30 000 ms). Lower is faster recovery; it must
   * stay above the longest pause between two messages (a slow handler, a GC pause).
   */
  readonly sessionTimeoutMs?: number;
  /** Heartbeat period; below the session timeout (default a third of it, at most 3000 ms). */
  readonly heartbeatIntervalMs?: number;
  /**
   * Longest wait between kafkajs retries (consumer and reply producer) and between rebuilds
   * (default 5000 ms): the client's own 30 s would leave a participant asleep long after a
   * broker is back.
   */
  readonly maxRetryTimeMs?: number;
  /**
   * Told about every crash and replaced client, and who brings it back. The participant always
   * comes back by itself while it is not stopped. Default: one line on stderr.
   */
  readonly onCrash?: (error: unknown, recovery: ParticipantRecovery) => void;
}

export interface ParticipantConsumerOptions extends ParticipantKafkaSettings {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Partitions processed at once. */
  readonly concurrency: number;
  readonly eachMessage: EachMessageHandler;
}

/** Resolved timings of one consumer group member. */
export interface ConsumerTimings {
  readonly sessionTimeout: number;
  readonly heartbeatInterval: number;
  readonly rebalanceTimeout: number;
  readonly maxRetryTime: number;
}

const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RETRY_TIME_MS = 5000;
const FIRST_REBUILD_DELAY_MS = 500;
const DISCONNECT_BOUND_MS = 5000;

/**
 * The timings a consumer runs with; throws InvalidParticipantOptionsError on values kafkajs
 * would refuse only later, inside `start()`.
 *
 * @example
 * consumerTimings({ sessionTimeoutMs: 6000 }); // heartbeat 2000, rebalance 10 000, retries ≤ 5000 apart
 */
export function consumerTimings(settings: ParticipantKafkaSettings): ConsumerTimings {
  const sessionTimeout = settings.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const heartbeatInterval =
    settings.heartbeatIntervalMs ?? Math.min(3000, Math.floor(sessionTimeout / 3));
  const maxRetryTime = settings.maxRetryTimeMs ?? DEFAULT_MAX_RETRY_TIME_MS;
  for (const [name, value] of Object.entries({ sessionTimeout, heartbeatInterval, maxRetryTime }))
    if (!Number.isInteger(value) || value < 1)
      throw new InvalidParticipantOptionsError(`${name}Ms is ${value}: use a positive integer.`);
  if (heartbeatInterval >= sessionTimeout)
    throw new InvalidParticipantOptionsError(
      `heartbeatIntervalMs (${heartbeatInterval}) must be lower than sessionTimeoutMs (${sessionTimeout}); about a third of it is usual.`,
    );
  // A rebalance waits this long for members to rejoin; never less than a session.
  const rebalanceTimeout = Math.max(sessionTimeout, 10_000);
  return { sessionTimeout, heartbeatInterval, rebalanceTimeout, maxRetryTime };
}

/**
 * A participant's consumer group member that never stays down while the process lives.
 * kafkajs restarts a consumer that crashed with a retriable error (a handler that kept
 * failing, a broker that stayed away through every retry); a crash it deems non-retriable
 * (after a broker restart "The coordinator is not aware of this member", a protocol error
 * while partitions move) leaves it stopped for good, and the participant would never read
 * another command. Then this class disconnects that consumer and builds a new one, with a
 * capped backoff, until it runs or `stop()` is called.
 *
 * @example
 * const consumer = new ParticipantConsumer(kafka, { groupId: 'audit', topics: ['audit.events'],
 *   concurrency: 4, sessionTimeoutMs: 10_000, eachMessage: async ({ message }) => record(message) });
 * await consumer.start(); // … and `await consumer.stop()` on shutdown
 */
export class ParticipantConsumer {
  private consumer: Consumer | null = null;
  private stopping = false;
  private rebuildTimer: NodeJS.Timeout | null = null;
  private rebuilding: Promise<void> | null = null;
  private failedRebuilds = 0;
  private readonly timings: ConsumerTimings;
  /** Crashes seen and consumers rebuilt since start, for logs and tests. */
  readonly totals = { crashes: 0, rebuilds: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ParticipantConsumerOptions,
  ) {
    this.timings = consumerTimings(options);
  }

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

  /** Creates, connects, subscribes and runs one kafkajs consumer. */
  private async run(): Promise<void> {
    const { sessionTimeout, heartbeatInterval, rebalanceTimeout, maxRetryTime } = this.timings;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout,
      heartbeatInterval,
      rebalanceTimeout,
      maxWaitTimeInMs: 50,
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
      this.report(payload.error, payload.restart ? 'kafkajs' : 'rebuild');
      if (!payload.restart) this.scheduleRebuild(consumer);
    });
    // Back in a group: the next crash starts the backoff from the beginning again.
    consumer.on(consumer.events.GROUP_JOIN, () => (this.failedRebuilds = 0));
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: this.options.concurrency,
      eachMessage: this.options.eachMessage,
    });
  }

  /** Replaces a consumer kafkajs gave up on, after 0.5 s doubling up to maxRetryTime. */
  private scheduleRebuild(dead: Consumer): void {
    if (this.stopping || this.consumer !== dead || this.rebuildTimer) return;
    const delay = Math.min(
      FIRST_REBUILD_DELAY_MS * 2 ** this.failedRebuilds,
      this.timings.maxRetryTime,
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
      this.report(error, 'rebuild');
      if (failed && !this.stopping) this.scheduleRebuild(failed);
    }
  }

  private report(error: unknown, recovery: ParticipantRecovery): void {
    (this.options.onCrash ?? logRecovery(this.options.groupId))(error, recovery);
  }
}

/** The default `onCrash`: one line on stderr naming the group, the error and what happens next. */
export function logRecovery(groupId: string) {
  return (error: unknown, recovery: ParticipantRecovery): void => {
    const what = {
      kafkajs: 'consumer crashed; kafkajs restarts it',
      rebuild: 'consumer crashed; rebuilding it',
      'new-producer': 'replaced the reply producer',
    }[recovery];
    process.stderr.write(`sagaflow participant (${groupId}): ${what} (${describeError(error)})\n`);
  };
}

/** `Name: message` of an error, for one log line. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
