import { randomUUID } from 'node:crypto';
import { CommandKind, SagaInstance } from '@sagaflow/engine';
import { CommandEnvelope, PROTOCOL, ReplyEnvelope, replyMessageId } from '@sagaflow/messaging';
import {
  JournalRepository,
  SagaInstanceRepository,
  TimelineEntry,
  withConnection,
} from '@sagaflow/persistence';
import {
  BatchResult,
  DefinitionRegistry,
  RawReply,
  ReplyBatchProcessor,
  StartSaga,
  TimerProcessor,
} from '@sagaflow/runtime';
import { defineCommand, SagaDefinition } from '@sagaflow/saga-dsl';
import { z } from 'zod';
import { createMigratedStore, TestStore } from './fixtures';

/*
 * The orchestrator's shell without Kafka: StartSaga, ReplyBatchProcessor and TimerProcessor on
 * a real PostgreSQL, with replies fed in by hand as RawReply objects. Nothing runs by itself:
 * the outbox is never relayed (it keeps every command sent, in order) and timers fire only
 * when a test calls `fire()`, so every step of a scenario is deterministic.
 */

export const TOPICS = { topicPrefix: 'harness.', replyTopic: 'harness.replies' };

/** Saga data of every harness saga. */
export const HarnessInput = z.object({ n: z.number().int() });
export type HarnessData = z.infer<typeof HarnessInput>;

/** A forward command: its reply carries `ref`, what the compensation undoes. */
export const Work = defineCommand({
  type: 'harness.work',
  topic: 'harness.commands',
  payload: z.object({ n: z.number().int() }),
  reply: z.object({ ref: z.string() }),
});

/** The compensation of Work: by `ref` when the saga has the forward's log, else by `n`. */
export const Undo = defineCommand({
  type: 'harness.undo',
  topic: 'harness.commands',
  payload: z.object({ n: z.number().int(), ref: z.string().optional() }),
  reply: z.object({}).strict(),
});

/** A notification (no reply awaited). */
export const Notify = defineCommand({
  type: 'harness.notify',
  topic: 'harness.commands',
  payload: z.object({ n: z.number().int() }),
  reply: z.object({}),
});

export const work = { command: Work, payload: (d: HarnessData) => ({ n: d.n }) };
export const undo = {
  command: Undo,
  payload: (d: HarnessData, log: { ref: string } | undefined) => ({ n: d.n, ref: log?.ref }),
};

export type Outcome =
  | { readonly status: 'success'; readonly data: unknown }
  | { readonly status: 'failure'; readonly retryable: boolean; readonly type: string };

export const ok = (data: unknown = { ref: `ref-${randomUUID().slice(0, 8)}` }): Outcome => ({
  status: 'success',
  data,
});
export const fail = (type: string, retryable: boolean): Outcome => ({
  status: 'failure',
  retryable,
  type,
});

let offset = 0;

/** A reply as the participant kit would publish it, in the form the reply consumer hands over. */
export function rawReply(
  sagaId: string,
  step: string,
  attempt: number,
  outcome: Outcome,
  options: { kind?: CommandKind; messageId?: string } = {},
): RawReply {
  const kind = options.kind ?? 'forward';
  const commandId = `${sagaId}:${step}:${kind}:${attempt}`;
  const base = {
    protocol: PROTOCOL,
    messageId: options.messageId ?? replyMessageId(commandId),
    inReplyTo: commandId,
    sagaId,
    step,
    kind,
    attempt,
    idempotencyKey: `${sagaId}:${step}:${kind}`,
  } as const;
  const envelope: ReplyEnvelope =
    outcome.status === 'success'
      ? { ...base, outcome: 'success', data: outcome.data }
      : {
          ...base,
          outcome: 'failure',
          failure: { retryable: outcome.retryable, type: outcome.type, message: outcome.type },
        };
  return {
    topic: TOPICS.replyTopic,
    partition: 0,
    offset: String(offset++),
    key: Buffer.from(sagaId),
    headers: {},
    value: Buffer.from(JSON.stringify(envelope)),
  };
}

export interface StoredTimer {
  readonly key: string;
  readonly event: Record<string, unknown>;
  /** due_at − created_at: the delay it was armed with (created_at is its transaction's time). */
  readonly delayMs: number;
  readonly dueAt: Date;
  /** The id of the transaction that wrote the row. */
  readonly xmin: string;
}

export class SagaHarness {
  readonly registry: DefinitionRegistry;
  readonly startSaga: StartSaga;
  readonly processor: ReplyBatchProcessor;
  readonly timers: TimerProcessor;
  private readonly instances = new SagaInstanceRepository();
  private readonly journals = new JournalRepository();

  private constructor(
    readonly store: TestStore,
    definitions: readonly SagaDefinition[],
  ) {
    this.registry = new DefinitionRegistry(definitions);
    this.startSaga = new StartSaga(store.dataSource, this.registry, TOPICS);
    this.processor = new ReplyBatchProcessor(store.dataSource, this.registry, TOPICS);
    this.timers = this.timerProcessor();
  }

  /** A fresh migrated database with the definitions registered. */
  static async create(
    definitions: readonly SagaDefinition[],
    options: { prefix?: string } = {},
  ): Promise<SagaHarness> {
    const store = await createMigratedStore({
      prefix: options.prefix ?? 'sagaflow_harness',
      register: definitions,
    });
    return new SagaHarness(store, definitions);
  }

  get dataSource() {
    return this.store.dataSource;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Another TimerProcessor on the same database (by default with the same definitions). */
  timerProcessor(
    registry: DefinitionRegistry = this.registry,
    options: { batchSize?: number; pollMs?: number } = {},
  ): TimerProcessor {
    return new TimerProcessor(this.dataSource, registry, TOPICS, {
      ...options,
      onError: (e) => process.stderr.write(`timer processor: ${String(e)}\n`),
    });
  }

  async start(sagaType: string, n = 1): Promise<SagaInstance> {
    const { instance } = await this.startSaga.execute({
      sagaType,
      input: { n },
      idempotencyKey: randomUUID(),
      businessKey: `n-${n}`,
      actor: 'test',
    });
    return instance;
  }

  /** Feeds replies through the ReplyBatchProcessor, as one batch. */
  feed(...replies: RawReply[]): Promise<BatchResult> {
    return this.processor.process(replies);
  }

  /** Feeds one reply to a forward (or, with `kind`, a compensation) attempt. */
  reply(
    sagaId: string,
    step: string,
    attempt: number,
    outcome: Outcome,
    kind: CommandKind = 'forward',
  ): Promise<BatchResult> {
    return this.feed(rawReply(sagaId, step, attempt, outcome, { kind }));
  }

  /** Fires due timers with the harness's processor until none is due; returns how many fired. */
  async fire(processor: TimerProcessor = this.timers): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await processor.fireDue();
      total += n;
      if (n === 0) return total;
    }
  }

  async load(sagaId: string): Promise<SagaInstance> {
    const stored = await withConnection(this.dataSource, (sql) =>
      this.instances.findById(sql, sagaId),
    );
    if (!stored) throw new Error(`no saga instance ${sagaId}`);
    return stored.instance;
  }

  journal(sagaId: string): Promise<TimelineEntry[]> {
    return withConnection(this.dataSource, (sql) => this.journals.timeline(sql, sagaId));
  }

  /** Every command the saga sent, in order (the outbox is never relayed here). */
  async commands(sagaId: string): Promise<CommandEnvelope[]> {
    const rows: Array<{ body: CommandEnvelope }> = await this.dataSource.query(
      `SELECT body FROM outbox_message WHERE message_key = $1 ORDER BY seq`,
      [sagaId],
    );
    return rows.map((r) => r.body);
  }

  /** `step kind attempt` of every command sent, e.g. `a forward 1`. */
  async sent(sagaId: string): Promise<string[]> {
    return (await this.commands(sagaId)).map((c) => `${c.step} ${c.kind} ${c.attempt}`);
  }

  async storedTimers(sagaId: string): Promise<StoredTimer[]> {
    const rows: Array<{
      timer_key: string;
      event: Record<string, unknown>;
      delay_ms: string;
      due_at: Date;
      xmin: string;
    }> = await this.dataSource.query(
      `SELECT timer_key, event, due_at, xmin::text AS xmin,
              (extract(epoch FROM due_at - created_at) * 1000)::bigint AS delay_ms
         FROM saga_timer WHERE saga_id = $1 ORDER BY timer_key`,
      [sagaId],
    );
    return rows.map((r) => ({
      key: r.timer_key,
      event: r.event,
      delayMs: Number(r.delay_ms),
      dueAt: r.due_at,
      xmin: r.xmin,
    }));
  }

  /** The keys of the saga's armed timers, relative to the saga id (`a:forward:1:timeout`). */
  async timerKeys(sagaId: string): Promise<string[]> {
    return (await this.storedTimers(sagaId)).map((t) => t.key.slice(sagaId.length + 1));
  }

  /** Makes the saga's timers (or those whose key ends with `suffix`) due now. */
  async makeDue(sagaId: string, suffix = ''): Promise<void> {
    await this.dataSource.query(
      `UPDATE saga_timer SET due_at = now() WHERE saga_id = $1 AND timer_key LIKE $2`,
      [sagaId, `%${suffix}`],
    );
  }
}
