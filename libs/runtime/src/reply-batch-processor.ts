import { crashPoint } from '@sagaflow/config';
import { decide, SagaInstance, unmatchedReply } from '@sagaflow/engine';
import { decodeReply, headersToStrings, ReplyEnvelope } from '@sagaflow/messaging';
import {
  processTelemetry,
  SagaTelemetry,
  stampTimers,
  TracedTransition,
} from '@sagaflow/observability';
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
import { parkedFrom, RawMessage } from './kafka-batch';
import { addTransition, emptyWrites, flushWrites, TopicSettings, Writes } from './effect-writes';
import { ArmedTimer, NO_WAKEUPS, TimerWakeupSink } from './timer-wakeups';

/** A reply as fetched from Kafka, before any parsing. */
export type RawReply = RawMessage;

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
    private readonly wakeups: TimerWakeupSink = NO_WAKEUPS,
    /** Where spans, metrics and logs go; default: the process's (see installTelemetry). */
    private readonly telemetry?: SagaTelemetry,
  ) {}

  async process(batch: readonly RawReply[]): Promise<BatchResult> {
    const telemetry = this.telemetry ?? processTelemetry();
    for (let attempt = 1; ; attempt++) {
      const done: Done = { armed: [], cancelled: [], traced: [], parked: [], ages: new Map() };
      try {
        const result = await withTransaction(this.dataSource, async (sql) => {
          const result = await this.processInTransaction(sql, batch, done);
          done.ages = await telemetry.sagaAges(sql, done.traced);
          crashPoint('reply.beforeCommit');
          return result;
        });
        this.wakeups.wake(done.armed);
        this.wakeups.forget?.(done.cancelled);
        telemetry.committed(done.traced, done.ages);
        telemetry.parked(done.parked);
        return result;
      } catch (error) {
        telemetry.abandoned(done.traced, error);
        if (!(error instanceof OptimisticLockError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  private async processInTransaction(
    sql: Sql,
    batch: readonly RawReply[],
    done: Done,
  ): Promise<BatchResult> {
    const parked: Parked[] = [];
    const valid: Array<{ raw: RawReply; reply: ReplyEnvelope }> = [];
    for (const raw of batch) {
      const decoded = decodeReply(raw.value);
      if (decoded.ok) valid.push({ raw, reply: decoded.value });
      else parked.push({ raw, message: park(raw, 'malformed', decoded.reason, null) });
    }
    const fresh = await this.inbox.recordNew(
      sql,
      CONSUMER,
      valid.map((v) => v.reply.messageId),
    );
    const candidates = valid.filter((v) => fresh.has(v.reply.messageId));
    const apply = await this.applyAll(sql, candidates, parked, done);
    done.parked = parked.map((p) => p.message);
    await this.parked.park(sql, done.parked);
    // Same transaction as the park: the dead-letter copy is never lost, and the relay (not this
    // batch) waits for Kafka, so publishing it never blocks the partition.
    await enqueueDeadLetters(sql, deadLetterTopicFor(this.topics.replyTopic), parked);
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
    parked: Parked[],
    done: Done,
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
      const outcome = this.applyOne(current.get(reply.sagaId), reply, raw, writes, done);
      if (outcome.kind === 'park') {
        parked.push({ raw, message: { ...outcome.parked, messageId: reply.messageId } });
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
    done.armed.push(...writes.schedule);
    done.cancelled.push(...writes.cancel);
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
    done: Done,
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
    const unmatched = unmatchedReply(definition, instance, reply);
    if (unmatched)
      return { kind: 'park', parked: park(raw, 'unmatched-reply', unmatched, instance.id) };
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
    const { step, kind, attempt, inReplyTo, outcome } = reply;
    const t = (this.telemetry ?? processTelemetry()).begin(
      definition,
      decision,
      { event: 'replyReceived', step, kind, attempt, reply: { inReplyTo, outcome } },
      headersToStrings(raw.headers).traceparent,
    );
    done.traced.push(t);
    const firstTimer = writes.schedule.length;
    addTransition(
      writes,
      decision.next,
      decision.effects,
      decision.journal,
      'reply',
      this.topics,
      t.traceparent,
    );
    stampTimers(writes.schedule, firstTimer, t.traceparent);
    return { kind: 'applied', next: decision.next };
  }
}

/** What one attempt at a batch leaves for after its commit. */
interface Done {
  readonly armed: ArmedTimer[];
  /** Timers cancelled by the batch: their Redis wake-ups go after the commit. */
  readonly cancelled: string[];
  readonly traced: TracedTransition[];
  parked: ParkedMessage[];
  ages: ReadonlyMap<string, number>;
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

/** A parked reply: the row for `parked_message` and the message as fetched (for the DLT copy). */
interface Parked {
  readonly raw: RawReply;
  readonly message: ParkedMessage;
}

function park(
  raw: RawReply,
  reasonCode: string,
  reason: string,
  sagaId: string | null,
): ParkedMessage {
  return parkedFrom(raw, reasonCode, reason, sagaId);
}

// ------------------------------------------------------------------ dead-letter topic

/** The topic every parked reply is also published to: `<reply topic>.dlt`. */
export function deadLetterTopicFor(replyTopic: string): string {
  return `${replyTopic}.dlt`;
}

/** Headers a dead-letter copy carries besides the original ones. */
export const DEAD_LETTER_HEADERS = {
  /** The readable reason, as in `parked_message.reason`. */
  reason: 'sagaflow-park-reason',
  /** The stable reason code (`malformed`, `unknown-saga`, `invalid-reply`, …). */
  reasonCode: 'sagaflow-park-reason-code',
  /** Where the original is: `<topic>/<partition>/<offset>`. */
  origin: 'sagaflow-park-origin',
  /** How the value holds the original, see DeadLetterValueEncoding. */
  valueEncoding: 'sagaflow-park-value-encoding',
} as const;

/**
 * - `json`: the value is the original JSON value (re-serialised: key order and whitespace may
 *   differ, numbers beyond 2^53 lose precision);
 * - `base64`: the value is a JSON string holding the original bytes in base64 (not UTF-8 JSON,
 *   or JSON that PostgreSQL's jsonb cannot hold: U+0000, lone surrogates);
 * - `absent`: the original had no value (the copy's value is `null`);
 * - `omitted`: the original is too large to copy (value `null`); read it at its origin.
 */
export type DeadLetterValueEncoding = 'json' | 'base64' | 'absent' | 'omitted';

/** Above this the value is not copied: a copy Kafka would refuse must never wedge the relay. */
const MAX_DEAD_LETTER_VALUE_BYTES = 512 * 1024;

/**
 * Writes one outbox row per parked reply, to the dead-letter topic. The outbox is jsonb and the
 * relay sends `JSON.stringify(body)`, so a JSON value travels as itself and anything else as
 * base64 (the encoding is in a header). The message id is the reply's position in Kafka: a batch
 * processed again after a crash (before its offsets were committed) adds no second row while the
 * first is still unsent (`ON CONFLICT DO NOTHING`); once sent, a second copy may go out (at least once).
 */
async function enqueueDeadLetters(
  sql: Sql,
  topic: string,
  parked: readonly Parked[],
): Promise<void> {
  if (parked.length === 0) return;
  const rows = parked.map(({ raw, message }) => {
    const { encoding, body } = deadLetterValue(raw.value);
    return {
      message_id: `park:${raw.topic}:${raw.partition}:${raw.offset}`,
      topic,
      // The outbox key is NOT NULL: a reply without a key gets an empty one.
      message_key: storable(raw.key?.toString() ?? ''),
      headers: {
        ...Object.fromEntries(
          Object.entries(headersToStrings(raw.headers)).map(([k, v]) => [storable(k), storable(v)]),
        ),
        [DEAD_LETTER_HEADERS.reason]: storable(message.reason),
        [DEAD_LETTER_HEADERS.reasonCode]: storable(message.reasonCode),
        [DEAD_LETTER_HEADERS.origin]: `${raw.topic}/${raw.partition}/${raw.offset}`,
        [DEAD_LETTER_HEADERS.valueEncoding]: encoding,
      },
      body,
    };
  });
  // `v->'body'` keeps a JSON null as jsonb null (jsonb_to_recordset would make it SQL NULL).
  await sql.exec(
    `INSERT INTO outbox_message (message_id, topic, message_key, headers, body)
     SELECT v->>'message_id', v->>'topic', v->>'message_key', v->'headers', v->'body'
       FROM jsonb_array_elements($1::jsonb) AS v
     ON CONFLICT (message_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

function deadLetterValue(value: Buffer | null): {
  encoding: DeadLetterValueEncoding;
  body: unknown;
} {
  if (value === null) return { encoding: 'absent', body: null };
  if (value.length <= MAX_DEAD_LETTER_VALUE_BYTES) {
    const json = storableJson(value);
    if (json.ok) return { encoding: 'json', body: json.value };
  }
  if (Math.ceil(value.length / 3) * 4 <= MAX_DEAD_LETTER_VALUE_BYTES)
    return { encoding: 'base64', body: value.toString('base64') };
  return { encoding: 'omitted', body: null };
}

/** The value as JSON, if it is UTF-8 JSON that jsonb can hold. */
function storableJson(value: Buffer): { ok: true; value: unknown } | { ok: false } {
  const text = value.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(value)) return { ok: false }; // not valid UTF-8
  try {
    const parsed: unknown = JSON.parse(text);
    // jsonb refuses \u0000 and unpaired surrogates; JSON.stringify writes both as escapes
    // (a literal backslash before such text also matches: base64 then, which loses nothing).
    if (/\\u0000|\\ud[89a-f][0-9a-f]{2}/i.test(JSON.stringify(parsed))) return { ok: false };
    return { ok: true, value: parsed };
  } catch {
    return { ok: false };
  }
}

/** PostgreSQL text cannot hold U+0000 nor jsonb an unpaired surrogate: U+FFFD instead. */
function storable(value: string): string {
  return value
    .replaceAll('\u0000', '\uFFFD')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
