import { ConsumerTimings, SelfHealingConsumer } from '@sagaflow/messaging';
import { EachMessageHandler, Kafka } from 'kafkajs';
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

const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RETRY_TIME_MS = 5000;

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
 * A participant's consumer group member that never stays down while the process lives: a
 * consumer kafkajs gave up on is replaced (see SelfHealingConsumer in `@sagaflow/messaging`,
 * shared with the orchestrator's reply consumer).
 *
 * @example
 * const consumer = new ParticipantConsumer(kafka, { groupId: 'audit', topics: ['audit.events'],
 *   concurrency: 4, sessionTimeoutMs: 10_000, eachMessage: async ({ message }) => record(message) });
 * await consumer.start(); // … and `await consumer.stop()` on shutdown
 */
export class ParticipantConsumer {
  private readonly member: SelfHealingConsumer;

  constructor(kafka: Kafka, options: ParticipantConsumerOptions) {
    this.member = new SelfHealingConsumer(kafka, {
      groupId: options.groupId,
      timings: consumerTimings(options),
      runConsumer: async (consumer) => {
        await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
        await consumer.run({
          partitionsConsumedConcurrently: options.concurrency,
          eachMessage: options.eachMessage,
        });
      },
      onCrash: options.onCrash ?? logRecovery(options.groupId),
    });
  }

  /** Crashes seen and consumers rebuilt since start, for logs and tests. */
  get totals(): { readonly crashes: number; readonly rebuilds: number } {
    return this.member.totals;
  }

  async start(): Promise<void> {
    await this.member.start();
  }

  /** Stops for good: no rebuild is scheduled after this, and a pending one is cancelled. */
  async stop(): Promise<void> {
    await this.member.stop();
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
