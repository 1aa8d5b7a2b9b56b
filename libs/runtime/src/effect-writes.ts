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
    else writes.cancel.push(effect.key);
  }
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
