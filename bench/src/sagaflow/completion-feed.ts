import { HEADERS } from '@sagaflow/messaging';
import { Consumer, Kafka } from 'kafkajs';

const TERMINAL = new Set(['saga.completed', 'saga.compensated', 'saga.failed']);

/**
 * Learns when sagas end from the engine's own lifecycle events (`saga.completed` …), the signal
 * any client of Sagaflow gets: no polling of the database, so the bench adds no load to it.
 */
export class CompletionFeed {
  private readonly waiting = new Map<string, (at: number) => void>();
  /** Terminal events that came before the start call returned (possible, if unlikely). */
  private readonly early = new Map<string, number>();
  private consumer: Consumer | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 20 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 8,
      eachBatch: async ({ batch }) => {
        const at = Date.now();
        for (const message of batch.messages) {
          // The type header saves parsing the four non-terminal events of every saga.
          const type = message.headers?.[HEADERS.messageType]?.toString();
          const sagaId = message.headers?.[HEADERS.sagaId]?.toString();
          if (type && sagaId && TERMINAL.has(type)) this.settle(sagaId, at);
        }
      },
    });
  }

  /** Resolves with the time the saga's terminal event arrived. */
  finished(sagaId: string): Promise<number> {
    const early = this.early.get(sagaId);
    if (early !== undefined) {
      this.early.delete(sagaId);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => this.waiting.set(sagaId, resolve));
  }

  /** Sagas whose end has not been seen yet. */
  get pending(): number {
    return this.waiting.size;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  private settle(sagaId: string, at: number): void {
    const resolve = this.waiting.get(sagaId);
    if (!resolve) return void this.early.set(sagaId, at);
    this.waiting.delete(sagaId);
    resolve(at);
  }
}
