import { Admin, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';

export interface KafkaOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
}

/**
 * kafkajs behind our own port, so a swap to another client stays small. Logging is quiet
 * (errors only): reconnect noise is expected during broker restarts and is reported by health.
 */
export function createKafka(options: KafkaOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/**
 * The idempotent producer: `acks=-1`, one request in flight, broker-side dedupe of retries.
 * The outbox plus the inbox make processing effectively once; this only avoids needless duplicates.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
}

/**
 * Creates missing topics and waits until every partition of every topic has a leader. A young
 * Kafka 4 broker answers UNKNOWN_TOPIC_OR_PARTITION (and LEADER_NOT_AVAILABLE) for a while
 * after a create, and a consumer or producer started in that window fails; retriable errors
 * are retried here, within `timeoutMs`, so callers can use the topics at once.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly string[],
  partitions: number,
  timeoutMs = 30_000,
): Promise<void> {
  const wanted = [...new Set(topics)];
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: partitions,
            replicationFactor: -1,
          })),
        });
      }
      if (await allLeadersKnown(admin, wanted)) return;
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || Date.now() > deadline)
        throw error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `topics ${wanted.join(', ')} have no leader after ${timeoutMs} ms: is the broker healthy?`,
      );
    await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1000)));
  }
}

async function allLeadersKnown(admin: Admin, topics: readonly string[]): Promise<boolean> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
  return (
    metadata.length === topics.length &&
    metadata.every(
      (t) =>
        t.partitions.length > 0 &&
        t.partitions.every((p) => p.leader >= 0 && p.partitionErrorCode === 0),
    )
  );
}
