import { Effect, JournalEntry, SagaInstance } from '@sagaflow/engine';
import { encodeCommand, PROTOCOL } from '@sagaflow/messaging';
import {
  InstanceUpdate,
  JournalRecord,
  JournalRepository,
  OutboxMessage,
  OutboxRepository,
  SagaInstanceRepository,
  Sql,
  TimerRepository,
  TimerToSchedule,
} from '@sagaflow/persistence';

export interface TopicSettings {
  readonly topicPrefix: string;
  readonly replyTopic: string;
  /** Where lifecycle events go; absent or null publishes none. */
  readonly lifecycleTopic?: string | null;
}

/** Everything one or more transitions write, besides the instance rows themselves. */
export interface Writes {
  readonly journal: JournalRecord[];
  readonly outbox: OutboxMessage[];
  readonly schedule: TimerToSchedule[];
  readonly cancel: string[];
}

export function emptyWrites(): Writes {
  return { journal: [], outbox: [], schedule: [], cancel: [] };
}

/** Translates one applied decision's effects and journal into rows (the shell only translates). */
export function addTransition(
  writes: Writes,
  next: SagaInstance,
  effects: readonly Effect[],
  journal: readonly JournalEntry[],
  actor: string,
  topics: TopicSettings,
  traceparent?: string,
): void {
  writes.journal.push(
    ...journal.map((entry) => ({
      ...entry,
      sagaId: next.id,
      instanceVersion: next.version,
      actor,
    })),
  );
  for (const effect of effects) {
    if (effect.type === 'sendCommand') writes.outbox.push(toOutbox(effect, topics, traceparent));
    else if (effect.type === 'scheduleTimer')
      writes.schedule.push({
        key: effect.key,
        sagaId: next.id,
        delayMs: effect.delayMs,
        event: effect.event,
      });
    else if (effect.type === 'cancelTimer') writes.cancel.push(effect.key);
    else if (topics.lifecycleTopic)
      writes.outbox.push(lifecycleMessage(effect, topics.lifecycleTopic));
  }
}

/**
 * A lifecycle event on the wire: keyed by saga id (one saga's events stay in order), with a
 * deterministic id that consumers dedupe on. Sent through the outbox like any command.
 */
function lifecycleMessage(
  effect: Extract<Effect, { type: 'emitEvent' }>,
  topic: string,
): OutboxMessage {
  const body = {
    protocol: PROTOCOL,
    eventId: effect.eventId,
    type: effect.event,
    sagaId: effect.sagaId,
    sagaType: effect.sagaType,
    sagaVersion: effect.sagaVersion,
    businessKey: effect.businessKey,
    version: effect.version,
    step: effect.step ?? null,
    detail: effect.detail ?? {},
  };
  const headers = {
    'sagaflow-protocol': PROTOCOL,
    'sagaflow-message-id': effect.eventId,
    'sagaflow-saga-id': effect.sagaId,
    'sagaflow-message-type': effect.event,
    'content-type': 'application/json',
  };
  return { messageId: `event:${effect.eventId}`, topic, key: effect.sagaId, headers, body };
}

const instances = new SagaInstanceRepository();
const journals = new JournalRepository();
const outboxes = new OutboxRepository();
const timers = new TimerRepository();

/** Writes a batch: instances (optimistic), journal, outbox, then timers (cancelled before armed). */
export async function flushWrites(
  sql: Sql,
  updates: readonly InstanceUpdate[],
  writes: Writes,
): Promise<void> {
  await instances.updateMany(sql, updates);
  await journals.append(sql, writes.journal);
  await outboxes.enqueue(sql, writes.outbox);
  await timers.cancel(sql, writes.cancel);
  await timers.schedule(sql, writes.schedule);
}

function toOutbox(
  effect: Extract<Effect, { type: 'sendCommand' }>,
  topics: TopicSettings,
  traceparent?: string,
): OutboxMessage {
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
      expectsReply: effect.expectsReply,
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
}
