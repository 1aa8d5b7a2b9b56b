import { Effect, JournalEntry, SagaInstance } from '@sagaflow/engine';
import { encodeCommand, PROTOCOL } from '@sagaflow/messaging';
import { JournalRecord, OutboxMessage } from '@sagaflow/persistence';

export interface TopicSettings {
  readonly topicPrefix: string;
  readonly replyTopic: string;
}

/** Translates the core's effects into outbox rows (the only effect so far is sendCommand). */
export function toOutbox(
  effects: readonly Effect[],
  topics: TopicSettings,
  traceparent?: string,
): OutboxMessage[] {
  return effects.map((effect) => {
    const wire = encodeCommand(
      {
        protocol: PROTOCOL,
        messageId: effect.messageId,
        sagaId: effect.sagaId,
        sagaType: effect.sagaType,
        sagaVersion: effect.sagaVersion,
        step: effect.step,
        kind: effect.kind,
        attempt: effect.attempt,
        idempotencyKey: effect.idempotencyKey,
        commandType: effect.commandType,
        replyTopic: topics.replyTopic,
        compensates: effect.compensates,
        payload: effect.payload,
      },
      `${topics.topicPrefix}${effect.topic}`,
      traceparent,
    );
    return {
      messageId: effect.messageId,
      topic: wire.topic,
      key: wire.key,
      headers: wire.headers,
      body: wire.body,
    };
  });
}

export function toJournal(
  next: SagaInstance,
  entries: readonly JournalEntry[],
  actor: string,
): JournalRecord[] {
  return entries.map((entry) => ({
    ...entry,
    sagaId: next.id,
    instanceVersion: next.version,
    actor,
  }));
}
