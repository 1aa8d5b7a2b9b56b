import { headersToStrings } from '@sagaflow/messaging';
import { ParkedMessage } from '@sagaflow/persistence';
import { Batch, Consumer } from 'kafkajs';

/** A Kafka message as fetched, before any parsing: what the batch processors take. */
export interface RawMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly headers: Record<string, unknown> | undefined;
  readonly value: Buffer | null;
}

export function rawMessages(batch: Batch): RawMessage[] {
  return batch.messages.map((m) => ({
    topic: batch.topic,
    partition: batch.partition,
    offset: m.offset,
    key: m.key,
    headers: m.headers,
    value: m.value,
  }));
}

/** Commits the offset after the batch (`last + 1`): call only once its effects are committed. */
export async function commitBatch(
  consumer: Consumer,
  batch: Batch,
  resolveOffset: (offset: string) => void,
): Promise<void> {
  const last = batch.messages[batch.messages.length - 1]!.offset;
  await consumer.commitOffsets([
    { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
  ]);
  resolveOffset(last);
}

/** A message that could not be applied, kept whole with the reason (see ParkedMessageRepository). */
export function parkedFrom(
  raw: RawMessage,
  reasonCode: string,
  reason: string,
  sagaId: string | null,
): ParkedMessage {
  return {
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
    key: raw.key?.toString() ?? null,
    headers: headersToStrings(raw.headers),
    body: raw.value?.toString() ?? null,
    reasonCode,
    reason,
    sagaId,
  };
}
