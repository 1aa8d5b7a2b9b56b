import { crashPoint } from '@sagaflow/config';
import { decide, SagaInstance } from '@sagaflow/engine';
import { decodeReply, headersToStrings, ReplyEnvelope } from '@sagaflow/messaging';
import {
  InboxRepository,
  InstanceUpdate,
  JournalRecord,
  OptimisticLockError,
  ParkedMessage,
  ParkedMessageRepository,
  SagaInstanceRepository,
  Sql,
  withTransaction,
} from '@sagaflow/persistence';
import { DataSource } from 'typeorm';
import { DefinitionRegistry } from './definition-registry';
import { addTransition, emptyWrites, flushWrites, TopicSettings, Writes } from './effect-writes';

/** A reply as fetched from Kafka, before any parsing. */
export interface RawReply {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly headers: Record<string, unknown> | undefined;
  readonly value: Buffer | null;
}

/** What one batch did; the figures feed logs, metrics and tests. */
export interface BatchResult {
  readonly applied: number;
  /** Same message id seen before (inbox). */
  readonly duplicates: number;
  /** Valid but without effect: late (after the end) or stale (another step or attempt). */
  readonly ignored: number;
  readonly parked: number;
}

const CONSUMER = 'orchestrator.replies';
const MAX_CONFLICT_RETRIES = 5;

/**
 * Applies a batch of replies in one transaction: inbox dedupe, load the instances, run the
 * core on each reply in order, write the new states (optimistic), journal, outbox and parked
 * rows. An optimistic-lock conflict rolls the whole batch back and runs it again.
 */
export class ReplyBatchProcessor {
  private readonly instances = new SagaInstanceRepository();
  private readonly inbox = new InboxRepository();
  private readonly parked = new ParkedMessageRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly topics: TopicSettings,
  ) {}

  async process(batch: readonly RawReply[]): Promise<BatchResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTransaction(this.dataSource, async (sql) => {
          const result = await this.processInTransaction(sql, batch);
          crashPoint('reply.beforeCommit');
          return result;
        });
      } catch (error) {
        if (!(error instanceof OptimisticLockError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  private async processInTransaction(sql: Sql, batch: readonly RawReply[]): Promise<BatchResult> {
    const parked: ParkedMessage[] = [];
    const valid: Array<{ raw: RawReply; reply: ReplyEnvelope }> = [];
    for (const raw of batch) {
      const decoded = decodeReply(raw.value);
      if (decoded.ok) valid.push({ raw, reply: decoded.value });
      else parked.push(park(raw, 'malformed', decoded.reason, null));
    }
    const fresh = await this.inbox.recordNew(
      sql,
      CONSUMER,
      valid.map((v) => v.reply.messageId),
    );
    const candidates = valid.filter((v) => fresh.has(v.reply.messageId));
    const apply = await this.applyAll(sql, candidates, parked);
    await this.parked.park(sql, parked);
    // A parked reply must not use up its id: once fixed (or replayed), it has to get through.
    await this.inbox.forget(sql, CONSUMER, apply.unsettled);
    return {
      applied: apply.applied,
      ignored: apply.ignored,
      duplicates: valid.length - apply.tried,
      parked: parked.length,
    };
  }

  /**
   * Applies the replies whose ids are new, in arrival order. The first reply with an id that is
   * applied or ignored settles that id, and later copies are duplicates. A parked reply does not
   * settle it: a corrected reply with the same id, even later in the same batch, still gets its turn.
   */
  private async applyAll(
    sql: Sql,
    replies: Array<{ raw: RawReply; reply: ReplyEnvelope }>,
    parked: ParkedMessage[],
  ) {
    const loaded = await this.instances.findMany(sql, [
      ...new Set(replies.map((r) => r.reply.sagaId)),
    ]);
    const current = new Map(loaded);
    const writes = emptyWrites();
    const settled = new Set<string>();
    let applied = 0;
    let ignored = 0;
    let tried = 0;
    for (const { raw, reply } of replies) {
      if (settled.has(reply.messageId)) continue;
      tried++;
      const outcome = this.applyOne(current.get(reply.sagaId), reply, raw, writes);
      if (outcome.kind === 'park') {
        parked.push({ ...outcome.parked, messageId: reply.messageId });
        continue;
      }
      settled.add(reply.messageId);
      if (outcome.kind === 'ignored') {
        ignored++;
        writes.journal.push(outcome.journal);
      } else {
        applied++;
        current.set(outcome.next.id, outcome.next);
      }
    }
    await flushWrites(sql, changedInstances(loaded, current), writes);
    const unsettled = [...new Set(replies.map((r) => r.reply.messageId))].filter(
      (id) => !settled.has(id),
    );
    return { applied, ignored, tried, unsettled };
  }

  private applyOne(
    instance: SagaInstance | undefined,
    reply: ReplyEnvelope,
    raw: RawReply,
    writes: Writes,
  ): ApplyOutcome {
    if (!instance)
      return {
        kind: 'park',
        parked: park(raw, 'unknown-saga', `no saga instance ${reply.sagaId}`, null),
      };
    const definition = this.registry.find(instance.sagaType, instance.sagaVersion);
    if (!definition) {
      return {
        kind: 'park',
        parked: park(
          raw,
          'unknown-definition',
          `this orchestrator has no definition ${instance.sagaType} v${instance.sagaVersion}`,
          instance.id,
        ),
      };
    }
    const decision = decide(definition, instance, {
      type: 'replyReceived',
      messageId: reply.messageId,
      step: reply.step,
      kind: reply.kind,
      attempt: reply.attempt,
      outcome:
        reply.outcome === 'success'
          ? { status: 'success', data: reply.data }
          : { status: 'failure', ...reply.failure },
    });
    if (decision.kind === 'rejected')
      return { kind: 'park', parked: park(raw, decision.reason, decision.message, instance.id) };
    if (decision.kind === 'ignored') {
      const detail = {
        messageId: reply.messageId,
        reason: decision.reason,
        message: decision.message,
      };
      const line: JournalRecord = {
        sagaId: instance.id,
        instanceVersion: instance.version,
        type: 'reply.ignored',
        step: reply.step,
        kind: reply.kind,
        attempt: reply.attempt,
        actor: 'reply',
        detail,
      };
      return { kind: 'ignored', journal: line };
    }
    const traceparent = headersToStrings(raw.headers).traceparent;
    addTransition(
      writes,
      decision.next,
      decision.effects,
      decision.journal,
      'reply',
      this.topics,
      traceparent,
    );
    return { kind: 'applied', next: decision.next };
  }
}

type ApplyOutcome =
  | { kind: 'park'; parked: ParkedMessage }
  | { kind: 'ignored'; journal: JournalRecord }
  | { kind: 'applied'; next: SagaInstance };

export function changedInstances(
  before: Map<string, SagaInstance>,
  after: Map<string, SagaInstance>,
): InstanceUpdate[] {
  return [...after.values()]
    .filter((next) => before.get(next.id)!.version !== next.version)
    .map((next) => ({ next, expectedVersion: before.get(next.id)!.version }));
}

function park(
  raw: RawReply,
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
