import { crashPoint } from '@sagaflow/config';
import { ClaimedMessage, OutboxRepository, withTransaction } from '@sagaflow/persistence';
import { Producer } from 'kafkajs';
import { DataSource } from 'typeorm';

export interface OutboxRelayOptions {
  /** Rows claimed and published per round trip. */
  readonly batchSize?: number;
  /** Sleep when the outbox is empty; a full batch loops at once. */
  readonly idleMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Publishes the outbox: claim rows (SKIP LOCKED), send them in one batch with the idempotent
 * producer, delete them, commit. A crash between send and commit only re-publishes, which the
 * participants' idempotency keys and the orchestrator's inbox absorb.
 */
export class OutboxRelay {
  private readonly outbox = new OutboxRepository();
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  published = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: Producer,
    private readonly options: OutboxRelayOptions = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Publishes one batch; returns how many rows it sent. */
  async relayOnce(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    return withTransaction(this.dataSource, async (sql) => {
      const claimed = await this.outbox.claim(sql, batchSize);
      if (claimed.length === 0) return 0;
      await this.producer.sendBatch({ acks: -1, topicMessages: byTopic(claimed) });
      crashPoint('relay.afterPublish');
      await this.outbox.remove(
        sql,
        claimed.map((m) => m.seq),
      );
      this.published += claimed.length;
      return claimed.length;
    });
  }

  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.relayOnce();
      } catch (error) {
        this.options.onError?.(error);
        await this.sleep(1000);
        continue;
      }
      if (sent < batchSize) await this.sleep(this.options.idleMs ?? 20);
    }
  }

  /** Waits, unless stop() wakes it early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = finish;
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
