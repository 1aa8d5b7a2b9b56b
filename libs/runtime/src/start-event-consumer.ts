import { commitBatch, parkedFrom, RawMessage, rawMessages } from './kafka-batch';
import { headersToStrings, HEADERS } from '@sagaflow/messaging';
import { processTelemetry, SagaTelemetry } from '@sagaflow/observability';
import { ParkedMessage, ParkedMessageRepository, withTransaction } from '@sagaflow/persistence';
import { RuntimeStartOn, validate } from '@sagaflow/saga-dsl';
import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { DefinitionRegistry } from './definition-registry';
import { InvalidSagaInputError } from './runtime-errors';
import { StartSaga } from './start-saga';

/** A saga type that starts from a domain event: the `startOn` of its latest version. */
export interface StartEventSource {
  readonly sagaType: string;
  readonly startOn: RuntimeStartOn;
}

/** Why a start event was parked: not JSON, not the event schema, or no valid saga input. */
export type StartEventParkReason = 'malformed-event' | 'invalid-event' | 'invalid-input';

/** A domain event as fetched from Kafka, before any parsing. */
export type RawStartEvent = RawMessage;

/** What one batch (or, as totals, every batch since start) did. */
export interface StartEventResult {
  started: number;
  /** The event id had already started its saga (a redelivery, or the same event published twice). */
  duplicates: number;
  parked: number;
}

/** Keeps the idempotency key far inside PostgreSQL's index entry limit; real ids are much shorter. */
const MAX_EVENT_ID = 500;

/**
 * The latest version of every saga type whose definition has `startOn`. Older versions never
 * start new sagas (StartSaga always uses the latest), so their `startOn` is not consumed.
 *
 * @example
 * const topics = startEventSources(registry).map((s) => prefix + s.startOn.topic);
 */
export function startEventSources(registry: DefinitionRegistry): StartEventSource[] {
  const names = [...new Set(registry.all().map((d) => d.compiled.name))];
  return names.flatMap((name) => {
    const { startOn } = registry.latest(name);
    return startOn ? [{ sagaType: name, startOn }] : [];
  });
}

/**
 * Turns a batch of domain events into saga starts, in order. Each start is StartSaga's own
 * transaction (idempotency key `event:<eventId>`, actor `event:<topic>`); the parked events
 * of the batch are written in one transaction after the starts. Only then may the caller commit
 * the offsets: a crash in between re-delivers the batch, the starts are no-ops the second time.
 * Infrastructure errors (PostgreSQL down) are thrown, so the batch is fetched again.
 */
export class StartEventProcessor {
  private readonly parked = new ParkedMessageRepository();
  private readonly byTopic = new Map<string, StartEventSource[]>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly startSaga: StartSaga,
    sources: readonly StartEventSource[],
    private readonly topicPrefix: string,
    /** Where parked events are logged; default: the process's telemetry. */
    private readonly telemetry?: SagaTelemetry,
  ) {
    for (const source of sources) {
      const list = this.byTopic.get(source.startOn.topic) ?? [];
      this.byTopic.set(source.startOn.topic, [...list, source]);
    }
  }

  /** `between` runs after each event (the consumer heartbeats there). */
  async process(
    batch: readonly RawStartEvent[],
    between: () => Promise<void> = async () => undefined,
  ): Promise<StartEventResult> {
    const result: StartEventResult = { started: 0, duplicates: 0, parked: 0 };
    const parked: ParkedMessage[] = [];
    const settled = new Set<string>();
    for (const raw of batch) {
      const domainTopic = raw.topic.slice(this.topicPrefix.length);
      const body = parseBody(raw.value);
      if (!body.ok) parked.push(park(raw, 'malformed-event', body.reason));
      else {
        for (const source of this.byTopic.get(domainTopic) ?? []) {
          const outcome = await this.startOne(source, domainTopic, body.value, raw, settled);
          if (outcome.kind === 'park') parked.push(park(raw, outcome.reason, outcome.message));
          else result[outcome.kind === 'started' ? 'started' : 'duplicates']++;
        }
      }
      await between();
    }
    if (parked.length > 0) {
      await withTransaction(this.dataSource, (sql) => this.parked.park(sql, parked));
      (this.telemetry ?? processTelemetry()).parked(parked);
    }
    result.parked = parked.length;
    return result;
  }

  private async startOne(
    source: StartEventSource,
    domainTopic: string,
    body: unknown,
    raw: RawStartEvent,
    settled: Set<string>,
  ): Promise<StartOutcome> {
    const mapped = mapEvent(source, body);
    if (mapped.kind === 'park') return mapped;
    // The same event twice in one batch: the first settled it, skip the round trip.
    const batchKey = `${source.sagaType}\u0000${mapped.idempotencyKey}`;
    if (settled.has(batchKey)) return { kind: 'duplicate' };
    try {
      const { created } = await this.startSaga.execute({
        sagaType: source.sagaType,
        input: mapped.input,
        idempotencyKey: mapped.idempotencyKey,
        businessKey: mapped.businessKey,
        actor: `event:${domainTopic}`,
        traceparent: headersToStrings(raw.headers)[HEADERS.traceparent],
      });
      settled.add(batchKey);
      return { kind: created ? 'started' : 'duplicate' };
    } catch (error) {
      if (error instanceof InvalidSagaInputError || isDataError(error))
        return invalid('invalid-input', source, messageOf(error));
      throw error;
    }
  }
}

type StartOutcome =
  | { kind: 'started' | 'duplicate' }
  | { kind: 'park'; reason: StartEventParkReason; message: string };

type Parked = Extract<StartOutcome, { kind: 'park' }>;

type Mapped =
  { kind: 'mapped'; idempotencyKey: string; input: unknown; businessKey: string | null } | Parked;

/** Validates the event and runs the author's functions; every failure is a reason to park. */
function mapEvent(source: StartEventSource, body: unknown): Mapped {
  const event = identify(source, body);
  if (event.kind === 'park') return event;
  const { startOn } = source;
  const input = attempt(() => startOn.input(event.value));
  if (!input.ok) return invalid('invalid-input', source, `input threw: ${input.error}`);
  const key = attempt(() => startOn.businessKey?.(event.value) ?? null);
  if (!key.ok) return invalid('invalid-input', source, `businessKey threw: ${key.error}`);
  if (key.value !== null && typeof key.value !== 'string')
    return invalid(
      'invalid-input',
      source,
      `businessKey must give a string, got ${describe(key.value)}`,
    );
  const serialised = attempt(() => JSON.stringify(input.value));
  if (!serialised.ok)
    return invalid('invalid-input', source, `the input is not JSON: ${serialised.error}`);
  if (containsNul([input.value, key.value]))
    return invalid('invalid-input', source, `the input or business key contains ${NUL_PROBLEM}`);
  return {
    kind: 'mapped',
    idempotencyKey: `event:${event.id}`,
    input: input.value,
    businessKey: key.value,
  };
}

/** The event's own checks: its schema, then its id (an event without a usable id is invalid). */
function identify(
  source: StartEventSource,
  body: unknown,
): { kind: 'event'; value: unknown; id: string } | Parked {
  const { startOn } = source;
  const checked = attempt(() => validate(startOn.event, body));
  if (!checked.ok)
    return invalid('invalid-event', source, `the event schema threw: ${checked.error}`);
  const result = checked.value;
  if (!result.ok) {
    const errors = result.errors.map((e) => `${e.path || '(root)'}: ${e.message}`);
    return invalid('invalid-event', source, `the event does not match: ${errors.join('; ')}`);
  }
  const id = attempt(() => startOn.eventId(result.value));
  if (!id.ok) return invalid('invalid-event', source, `eventId threw: ${id.error}`);
  if (typeof id.value !== 'string' || id.value === '' || id.value.length > MAX_EVENT_ID)
    return invalid(
      'invalid-event',
      source,
      `eventId must give a non-empty string of at most ${MAX_EVENT_ID} characters, got ${describe(id.value)}`,
    );
  if (containsNul(id.value))
    return invalid('invalid-event', source, `the event id contains ${NUL_PROBLEM}`);
  return { kind: 'event', value: result.value, id: id.value };
}

function invalid(reason: StartEventParkReason, source: StartEventSource, message: string): Parked {
  return { kind: 'park', reason, message: `saga "${source.sagaType}": ${message}` };
}

const NUL_PROBLEM = 'a NUL character (\\u0000), which PostgreSQL cannot store';

/** PostgreSQL text and jsonb cannot hold U+0000 (the same rule as the wire codec's). */
function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === 'object')
    return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v));
  return false;
}

function parseBody(
  value: Buffer | null,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (value === null) return { ok: false, reason: 'the event has no body' };
  const parsed = attempt(() => JSON.parse(value.toString()) as unknown);
  return parsed.ok ? parsed : { ok: false, reason: `the event body is not JSON: ${parsed.error}` };
}

function attempt<T>(run: () => T): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

/**
 * A PostgreSQL data exception (class 22: a value it cannot store) or program limit (class 54:
 * a key too long to index) is the event's fault and would fail again on every delivery.
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)/.test(code);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  return value.length <= 40
    ? `"${value}"`
    : `"${value.slice(0, 40)}…" (${value.length} characters)`;
}

function park(raw: RawStartEvent, reasonCode: StartEventParkReason, reason: string): ParkedMessage {
  return parkedFrom(raw, reasonCode, reason, null);
}

export interface StartEventConsumerOptions {
  /** The consumer group, `<prefix>sagaflow-start-events` in the orchestrator. */
  readonly groupId: string;
  /** The deployment's topic prefix: the consumer reads `<prefix><startOn.topic>`. */
  readonly topicPrefix: string;
  /** See SagaflowConfig.consumerSessionTimeoutMs (default 30 s). */
  readonly sessionTimeoutMs?: number;
  readonly onBatch?: (result: StartEventResult) => void;
  /** Where parked events are logged; default: the process's telemetry. */
  readonly telemetry?: SagaTelemetry;
}

/**
 * The start-event consumer group over every `startOn` topic of the latest definitions. Offsets
 * are committed only after the batch's starts and parks are committed; a bad event is parked
 * and the partition goes on. New groups read from the beginning of the topics, so no event
 * published before the first orchestrator joined is lost.
 *
 * @example
 * const consumer = new StartEventConsumer(kafka, dataSource, registry, new StartSaga(dataSource, registry, config), {
 *   groupId: `${config.topicPrefix}sagaflow-start-events`,
 *   topicPrefix: config.topicPrefix,
 * });
 * await consumer.start();
 */
export class StartEventConsumer {
  private consumer: Consumer | null = null;
  private readonly processor: StartEventProcessor;
  private readonly sources: StartEventSource[];
  readonly totals: StartEventResult = { started: 0, duplicates: 0, parked: 0 };

  constructor(
    private readonly kafka: Kafka,
    dataSource: DataSource,
    registry: DefinitionRegistry,
    startSaga: StartSaga,
    private readonly options: StartEventConsumerOptions,
  ) {
    this.sources = startEventSources(registry);
    this.processor = new StartEventProcessor(
      dataSource,
      startSaga,
      this.sources,
      options.topicPrefix,
      options.telemetry,
    );
  }

  /** The Kafka topics it reads (prefixed), one per distinct `startOn.topic`. */
  get topics(): string[] {
    return [...new Set(this.sources.map((s) => `${this.options.topicPrefix}${s.startOn.topic}`))];
  }

  async start(): Promise<void> {
    if (this.sources.length === 0)
      throw new Error(
        'no saga definition has startOn, so there is no topic to consume: check startEventSources(registry) before starting the consumer.',
      );
    const sessionTimeout = this.options.sessionTimeoutMs ?? 30_000;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 10_000),
      heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
      maxWaitTimeInMs: 50,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const result = await this.processor.process(rawMessages(batch), heartbeat);
    await commitBatch(this.consumer!, batch, resolveOffset);
    await heartbeat();
    this.totals.started += result.started;
    this.totals.duplicates += result.duplicates;
    this.totals.parked += result.parked;
    this.options.onBatch?.(result);
  }
}
