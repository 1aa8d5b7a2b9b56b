import { randomUUID } from 'node:crypto';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { SagaInstance, SagaStatus } from '@sagaflow/engine';
import { createIdempotentProducer, createKafka, ensureTopics } from '@sagaflow/messaging';
import { handle, ParticipantService } from '@sagaflow/participant';
import {
  JournalRepository,
  SagaInstanceRepository,
  TimelineEntry,
  withConnection,
} from '@sagaflow/persistence';
import {
  bootstrapStore,
  DefinitionRegistry,
  OutboxRelay,
  ReplyBatchProcessor,
  ReplyConsumer,
  StartSaga,
  sagaflowTopics,
} from '@sagaflow/runtime';
import { ConfirmOrder, NotifyCustomer, OrderInput, orderSaga } from '@sagaflow/sample-order';
import { Consumer, IHeaders, Kafka, KafkaMessage, logLevel, Partitioners, Producer } from 'kafkajs';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import {
  CREDIT_SCHEMA,
  creditHandlers,
  ensureCreditTables,
} from '../../apps/sample-participants/src/credit.participant';
import { ensureLedger, recordEffect } from '../../apps/sample-participants/src/effect-ledger';
import {
  ensureInventoryTables,
  INVENTORY_SCHEMA,
  inventoryHandlers,
} from '../../apps/sample-participants/src/inventory.participant';
import {
  createTestDatabase,
  deleteTopics,
  eventually,
  KAFKA_BROKERS,
  testPool,
  uniqueTopicPrefix,
} from '../support/infrastructure';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

// =====================================================================================
// The raw participant: the sample's `payment` service written from docs/protocol.md alone,
// with plain kafkajs. No Sagaflow import is used from here to the next banner: the envelope
// is read with JSON.parse, the reply is built by hand, the headers are plain strings.
// =====================================================================================

/** A command as docs/protocol.md describes it ("The command envelope"). */
interface Command {
  protocol: string;
  messageId: string;
  sagaId: string;
  sagaType: string;
  sagaVersion: number;
  step: string;
  kind: 'forward' | 'compensate';
  attempt: number;
  idempotencyKey: string;
  commandType: string;
  replyTopic: string;
  /** False for a notification: apply it, never reply (obligation 13). */
  expectsReply: boolean;
  compensates: string | null;
  payload: unknown;
}

/** A final outcome, recorded per idempotency key (obligations 4 to 6). */
type Outcome =
  | { outcome: 'success'; data: unknown }
  | { outcome: 'failure'; failure: { retryable: boolean; type: string; message: string } };

interface ReceivedCommand {
  readonly partition: number;
  readonly key: string | null;
  readonly headers: Record<string, string>;
  readonly command: Command;
}

/** Kafka headers as UTF-8 strings, first value of a repeated header ("Message value and headers"). */
function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = Buffer.isBuffer(first) ? first.toString('utf8') : first;
  }
  return out;
}

function isCommand(value: unknown): value is Command {
  const c = value as Partial<Command> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    c.protocol === 'sagaflow.v1' &&
    typeof c.messageId === 'string' &&
    typeof c.sagaId === 'string' &&
    typeof c.step === 'string' &&
    (c.kind === 'forward' || c.kind === 'compensate') &&
    typeof c.attempt === 'number' &&
    typeof c.idempotencyKey === 'string' &&
    typeof c.commandType === 'string' &&
    typeof c.replyTopic === 'string' &&
    typeof c.expectsReply === 'boolean'
  );
}

const DECLINED_CARD = '4000000000000002';

class RawPaymentParticipant {
  /** The durable record of final outcomes by idempotency key (a Map stands in for a table). */
  readonly outcomes = new Map<string, Outcome>();
  /** The effect: one charge per applied `payment.charge`. */
  readonly charges: Array<{ sagaId: string; chargeId: string; amount: number }> = [];
  readonly received: ReceivedCommand[] = [];
  readonly skipped: string[] = [];
  /** Orders whose command this participant handles twice, as after a redelivery: two replies. */
  readonly handleTwice = new Set<string>();
  /** Orders whose first reply carries data that breaks the reply schema (then the right one). */
  readonly firstReplyWrong = new Set<string>();
  /** Test hook: runs between that wrong reply and the right one. */
  beforeCorrection: ((command: Command) => Promise<unknown>) | null = null;
  private readonly consumer: Consumer;
  private readonly producer: Producer;

  constructor(
    brokers: readonly string[],
    private readonly commandTopic: string,
    groupId: string,
  ) {
    const kafka = new Kafka({
      clientId: 'raw-payment',
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
    });
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
    // Key = saga id with the Java-compatible murmur2 partitioner ("Message key and partitioning").
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.commandTopic], fromBeginning: true });
    // eachMessage: one partition in order; the offset is committed after the handler (and so
    // the reply) completes: at least once (obligations 1 and 11).
    await this.consumer.run({
      eachMessage: ({ partition, message }) => this.onMessage(partition, message),
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  private async onMessage(partition: number, message: KafkaMessage): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.value?.toString('utf8') ?? '');
    } catch {
      this.skipped.push(`offset ${message.offset}: not JSON`);
      return;
    }
    if (!isCommand(parsed)) {
      this.skipped.push(`offset ${message.offset}: not a sagaflow.v1 command`);
      return;
    }
    const command = parsed;
    const headers = headerStrings(message.headers);
    this.received.push({ partition, key: message.key?.toString('utf8') ?? null, headers, command });
    const orderId = (command.payload as { orderId?: unknown } | null)?.orderId;
    const times = typeof orderId === 'string' && this.handleTwice.has(orderId) ? 2 : 1;
    for (let i = 0; i < times; i++) {
      const outcome = this.process(command);
      // A notification is applied like any command, and never answered (obligation 13).
      if (!command.expectsReply) continue;
      if (i === 0 && typeof orderId === 'string' && this.firstReplyWrong.has(orderId)) {
        await this.reply(command, { outcome: 'success', data: { charge: 'wrong-field' } }, headers);
        await this.beforeCorrection?.(command);
      }
      await this.reply(command, outcome, headers);
    }
  }

  /** Applies the command at most once per idempotency key; returns the outcome to reply with. */
  private process(command: Command): Outcome {
    const recorded = this.outcomes.get(command.idempotencyKey);
    if (recorded) return recorded;
    if (command.commandType !== 'payment.charge') {
      return {
        outcome: 'failure',
        failure: {
          retryable: false,
          type: 'unknown-command',
          message: `no handler for ${command.commandType}`,
        },
      };
    }
    const payload = command.payload as { orderId?: unknown; amount?: unknown; card?: unknown };
    let outcome: Outcome;
    if (
      typeof payload?.orderId !== 'string' ||
      typeof payload.card !== 'string' ||
      typeof payload.amount !== 'number' ||
      !(payload.amount > 0)
    ) {
      outcome = {
        outcome: 'failure',
        failure: { retryable: false, type: 'invalid-payload', message: 'orderId, amount, card' },
      };
    } else if (payload.card === DECLINED_CARD) {
      outcome = {
        outcome: 'failure',
        failure: { retryable: false, type: 'card-declined', message: 'the card was declined' },
      };
    } else {
      const chargeId = `ch-${randomUUID()}`;
      // The effect and the record of the outcome in one step (one "transaction").
      this.charges.push({ sagaId: command.sagaId, chargeId, amount: payload.amount });
      outcome = { outcome: 'success', data: { chargeId } };
    }
    this.outcomes.set(command.idempotencyKey, outcome);
    return outcome;
  }

  /** Publishes the reply to the command in hand (obligations 5 and 10). */
  private async reply(
    command: Command,
    outcome: Outcome,
    commandHeaders: Record<string, string>,
  ): Promise<void> {
    const messageId = `reply:${command.messageId}`;
    const body = {
      protocol: 'sagaflow.v1',
      messageId,
      inReplyTo: command.messageId,
      sagaId: command.sagaId,
      step: command.step,
      kind: command.kind,
      attempt: command.attempt,
      idempotencyKey: command.idempotencyKey,
      ...outcome,
    };
    const headers: Record<string, string> = {
      'sagaflow-protocol': 'sagaflow.v1',
      'sagaflow-message-id': messageId,
      'sagaflow-saga-id': command.sagaId,
      'sagaflow-step': command.step,
      'sagaflow-kind': command.kind,
      'sagaflow-attempt': String(command.attempt),
      'sagaflow-message-type': `reply.${outcome.outcome}`,
      'content-type': 'application/json',
    };
    if (commandHeaders.traceparent) headers.traceparent = commandHeaders.traceparent;
    await this.producer.send({
      topic: command.replyTopic,
      acks: -1,
      messages: [{ key: command.sagaId, value: JSON.stringify(body), headers }],
    });
  }
}

// =====================================================================================
// The rest of the deployment, in this process: orchestrator pieces and the kit participants.
// =====================================================================================

/** Deletes this file's consumer groups once every consumer has left (best effort). */
async function deleteGroups(prefix: string): Promise<void> {
  const admin = createKafka({
    brokers: KAFKA_BROKERS,
    clientId: 'raw-participant-cleanup',
  }).admin();
  try {
    await admin.connect();
    const { groups } = await admin.listGroups();
    const mine = groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
    if (mine.length > 0) await admin.deleteGroups(mine);
  } catch {
    // a group the broker still considers active stays; the topics are gone anyway
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const ORDER_SCHEMA = 'raw_test_order';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
/** The steps that await a reply; the notification `notifyCustomer` follows them. */
const STEPS = ['reserveCredit', 'reserveInventory', 'chargePayment', 'confirmOrder'];
const COMPLETED_LINES = [
  ...STEPS.flatMap((s) => [`command.sent ${s} forward`, `reply.received ${s} forward`]),
  'command.sent notifyCustomer forward',
];
const COMPLETED_LEDGER = [
  'forward credit.reserve',
  'forward inventory.reserve',
  'forward order.confirm',
  'forward order.notify-customer',
];

/** A message seen on the reply topic or the order command topic. */
interface Tapped {
  readonly topic: string;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
}

describe('a participant written from docs/protocol.md alone (plain kafkajs) as the payment service', () => {
  const cleanup: Array<{ what: string; run: () => Promise<unknown> }> = [];
  const tapped: Tapped[] = [];
  let config: SagaflowConfig;
  let dataSource: DataSource;
  let pool: Pool;
  let startSaga: StartSaga;
  let replies: ReplyConsumer;
  let payment: RawPaymentParticipant;
  /** A plain producer for hand-made commands. */
  let producer: Producer;
  const instances = new SagaInstanceRepository();
  const journalRepo = new JournalRepository();

  beforeAll(async () => {
    const topicPrefix = uniqueTopicPrefix();
    cleanup.push({ what: 'delete topics', run: () => deleteTopics(topicPrefix) });
    cleanup.push({ what: 'delete consumer groups', run: () => deleteGroups(topicPrefix) });
    const db = await createTestDatabase('sagaflow_rawpart');
    cleanup.push({ what: 'drop database', run: () => db.drop() });
    config = loadConfig({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      SAGAFLOW_TOPIC_PREFIX: topicPrefix,
      SAGAFLOW_DB_POOL_SIZE: '6',
    });
    const registry = new DefinitionRegistry([orderSaga]);
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'raw-participant-test' });

    // Orchestrator: store, topics, relay, reply consumer.
    dataSource = await bootstrapStore(config, registry, {
      migrate: true,
      applicationName: 'sagaflow-raw-participant-test',
    });
    cleanup.push({ what: 'destroy DataSource', run: () => dataSource.destroy() });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, sagaflowTopics(config, registry), 3);
    } finally {
      await admin.disconnect();
    }
    const relayProducer = createIdempotentProducer(kafka);
    await relayProducer.connect();
    cleanup.push({ what: 'disconnect relay producer', run: () => relayProducer.disconnect() });
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    cleanup.push({ what: 'disconnect test producer', run: () => producer.disconnect() });
    const relay = new OutboxRelay(dataSource, relayProducer, {
      idleMs: 20,
      onError: (e) => process.stderr.write(`outbox relay: ${String(e)}\n`),
    });
    relay.start();
    cleanup.push({ what: 'stop relay', run: () => relay.stop() });
    startSaga = new StartSaga(dataSource, registry, config);
    replies = new ReplyConsumer(kafka, new ReplyBatchProcessor(dataSource, registry, config), {
      groupId: `${topicPrefix}sagaflow-orchestrator`,
      topic: config.replyTopic,
    });

    // Kit participants: credit and inventory with the sample handlers, order with handle().
    pool = testPool(db.url, { max: 8, application_name: 'raw-participant-test' });
    cleanup.push({ what: 'end participant pool', run: () => pool.end() });
    const client = await pool.connect();
    try {
      for (const schema of [CREDIT_SCHEMA, INVENTORY_SCHEMA, ORDER_SCHEMA])
        await ensureLedger(client, schema);
      await ensureCreditTables(client);
      await ensureInventoryTables(client);
    } finally {
      client.release();
    }
    const services = [
      { name: 'credit', schema: CREDIT_SCHEMA, topic: 'credit.commands', handlers: creditHandlers },
      {
        name: 'inventory',
        schema: INVENTORY_SCHEMA,
        topic: 'inventory.commands',
        handlers: inventoryHandlers,
      },
      {
        name: 'order',
        schema: ORDER_SCHEMA,
        topic: 'order.commands',
        handlers: [
          handle(ConfirmOrder, async ({ orderId, chargeId }, ctx) => {
            await recordEffect(ORDER_SCHEMA, ctx, { orderId, chargeId });
            return { confirmedAt: new Date().toISOString() };
          }),
          handle(NotifyCustomer, async ({ template }, ctx) => {
            await recordEffect(ORDER_SCHEMA, ctx, { template });
            return {};
          }),
        ],
      },
    ].map(
      (p) =>
        new ParticipantService({
          kafka,
          pool,
          schema: p.schema,
          groupId: `${topicPrefix}sample-${p.name}`,
          topics: [`${topicPrefix}${p.topic}`],
          handlers: p.handlers,
        }),
    );

    // The raw payment participant.
    payment = new RawPaymentParticipant(
      KAFKA_BROKERS,
      `${topicPrefix}payment.commands`,
      `${topicPrefix}raw-payment`,
    );

    // A tap on the reply topic and the order command topic, to see the wire.
    const tap = kafka.consumer({ groupId: `${topicPrefix}test-tap`, maxWaitTimeInMs: 50 });
    await tap.connect();
    cleanup.push({ what: 'disconnect tap', run: () => tap.disconnect() });
    await tap.subscribe({
      topics: [config.replyTopic, `${topicPrefix}order.commands`],
      fromBeginning: true,
    });

    await Promise.all([
      replies
        .start()
        .then(() => cleanup.push({ what: 'stop reply consumer', run: () => replies.stop() })),
      payment
        .start()
        .then(() =>
          cleanup.push({ what: 'stop raw payment participant', run: () => payment.stop() }),
        ),
      ...services.map((s) =>
        s.start().then(() => cleanup.push({ what: 'stop participant', run: () => s.stop() })),
      ),
      tap.run({
        eachMessage: async ({ topic, message }) => {
          tapped.push({
            topic,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? '',
            headers: headerStrings(message.headers),
          });
        },
      }),
    ]);
  });

  afterAll(async () => {
    const errors: string[] = [];
    for (const step of cleanup.splice(0).reverse()) {
      await step.run().catch((e: unknown) => errors.push(`${step.what}: ${String(e)}`));
    }
    if (errors.length > 0) throw new Error(`cleanup failed:\n${errors.join('\n')}`);
  });

  // ---------------------------------------------------------------- helpers

  async function start(overrides: Partial<OrderInput> = {}): Promise<SagaInstance> {
    const id = randomUUID().slice(0, 8);
    const input: OrderInput = {
      orderId: `order-${id}`,
      customerId: `customer-${id}`,
      sku: 'SKU-1',
      quantity: 2,
      amount: 100,
      card: '4242424242424242',
      ...overrides,
    };
    const { instance } = await startSaga.execute({
      sagaType: 'order',
      input,
      idempotencyKey: `raw:${input.orderId}`,
      businessKey: input.orderId,
      actor: 'test',
      traceparent: TRACEPARENT,
    });
    return instance;
  }

  async function load(sagaId: string): Promise<SagaInstance> {
    const stored = await withConnection(dataSource, (sql) => instances.findById(sql, sagaId));
    if (!stored) throw new Error(`no saga ${sagaId}`);
    return stored.instance;
  }

  function waitFor(sagaId: string, status: SagaStatus): Promise<SagaInstance> {
    return eventually(`saga ${sagaId} to be ${status}`, async () => {
      const instance = await load(sagaId);
      return instance.status === status ? instance : undefined;
    });
  }

  function journal(sagaId: string): Promise<TimelineEntry[]> {
    return withConnection(dataSource, (sql) => journalRepo.timeline(sql, sagaId));
  }

  const lines = (timeline: readonly TimelineEntry[]) =>
    timeline
      .filter((t) => ['command.sent', 'reply.received', 'reply.ignored'].includes(t.type))
      .map((t) => `${t.type} ${t.step} ${t.kind}`);

  async function ledger(sagaId: string, atLeast = 0): Promise<string[]> {
    const union = [CREDIT_SCHEMA, INVENTORY_SCHEMA, ORDER_SCHEMA]
      .map(
        (schema) =>
          `SELECT '${schema}' AS schema, kind, command_type, applied_at, id FROM ${schema}.effect_ledger WHERE saga_id = $1`,
      )
      .join(' UNION ALL ');
    // The notification is applied after the saga completed: wait for it when told.
    return eventually(`${atLeast} effects of saga ${sagaId}`, async () => {
      const { rows } = await pool.query(`${union} ORDER BY applied_at, id`, [sagaId]);
      return rows.length >= atLeast ? rows.map((r) => `${r.kind} ${r.command_type}`) : undefined;
    });
  }

  const repliesOf = (sagaId: string, step: string) =>
    tapped.filter(
      (t) =>
        t.topic === config.replyTopic &&
        t.headers['sagaflow-saga-id'] === sagaId &&
        t.headers['sagaflow-step'] === step,
    );

  // ---------------------------------------------------------------- tests

  it('completes a saga with the raw participant charging; the command it got is the documented wire form', async () => {
    const saga = await start();
    const done = await waitFor(saga.id, 'completed');

    const charges = payment.charges.filter((c) => c.sagaId === saga.id);
    expect(charges).toEqual([{ sagaId: saga.id, chargeId: expect.any(String), amount: 100 }]);
    expect(done.data).toMatchObject({ chargeId: charges[0]!.chargeId });
    expect(done.version).toBe(1 + STEPS.length);
    expect(lines(await journal(saga.id))).toEqual(COMPLETED_LINES);
    expect(await ledger(saga.id, COMPLETED_LEDGER.length)).toEqual(COMPLETED_LEDGER);

    // What reached the raw participant: exactly the documented key, headers and envelope.
    const got = payment.received.filter((r) => r.command.sagaId === saga.id);
    expect(got).toHaveLength(1);
    const { command, headers, key } = got[0]!;
    expect(key).toBe(saga.id);
    expect(command).toEqual({
      protocol: 'sagaflow.v1',
      messageId: `${saga.id}:chargePayment:forward:1`,
      sagaId: saga.id,
      sagaType: 'order',
      sagaVersion: 1,
      step: 'chargePayment',
      kind: 'forward',
      attempt: 1,
      idempotencyKey: `${saga.id}:chargePayment:forward`,
      commandType: 'payment.charge',
      replyTopic: config.replyTopic,
      expectsReply: true,
      compensates: null,
      payload: { orderId: expect.any(String), amount: 100, card: '4242424242424242' },
    });
    expect(headers).toEqual({
      'sagaflow-protocol': 'sagaflow.v1',
      'sagaflow-message-id': command.messageId,
      'sagaflow-saga-id': saga.id,
      'sagaflow-saga-type': 'order',
      'sagaflow-step': 'chargePayment',
      'sagaflow-kind': 'forward',
      'sagaflow-attempt': '1',
      'sagaflow-message-type': 'payment.charge',
      'sagaflow-idempotency-key': command.idempotencyKey,
      'sagaflow-reply-topic': config.replyTopic,
      'content-type': 'application/json',
      // started with it, carried through credit and inventory by the kit
      traceparent: TRACEPARENT,
    });
    expect(config.replyTopic).toBe(`${config.topicPrefix}sagaflow.replies`);
    expect(payment.skipped).toEqual([]);

    // The raw reply carried the traceparent on, so the next command has it too.
    const confirm = tapped.find(
      (t) =>
        t.topic === `${config.topicPrefix}order.commands` &&
        t.headers['sagaflow-saga-id'] === saga.id,
    );
    expect(confirm?.headers.traceparent).toBe(TRACEPARENT);
    const journalReply = (await journal(saga.id)).find(
      (t) => t.type === 'reply.received' && t.step === 'chargePayment',
    );
    expect(journalReply?.detail).toMatchObject({
      messageId: `reply:${saga.id}:chargePayment:forward:1`,
    });
  });

  it('compensates in reverse order when the raw participant declines the charge (failure, retryable false)', async () => {
    const saga = await start({ card: DECLINED_CARD });
    const done = await waitFor(saga.id, 'compensated');

    expect(done).toMatchObject({
      status: 'compensated',
      cause: { step: 'chargePayment', kind: 'forward', type: 'card-declined' },
    });
    expect(lines(await journal(saga.id))).toEqual([
      'command.sent reserveCredit forward',
      'reply.received reserveCredit forward',
      'command.sent reserveInventory forward',
      'reply.received reserveInventory forward',
      'command.sent chargePayment forward',
      'reply.received chargePayment forward',
      'command.sent reserveInventory compensate',
      'reply.received reserveInventory compensate',
      'command.sent reserveCredit compensate',
      'reply.received reserveCredit compensate',
    ]);
    expect(await ledger(saga.id, 4)).toEqual([
      'forward credit.reserve',
      'forward inventory.reserve',
      'compensate inventory.release',
      'compensate credit.release',
    ]);
    expect(payment.charges.filter((c) => c.sagaId === saga.id)).toEqual([]);
    expect(payment.outcomes.get(`${saga.id}:chargePayment:forward`)).toEqual({
      outcome: 'failure',
      failure: { retryable: false, type: 'card-declined', message: 'the card was declined' },
    });
    const [declined] = repliesOf(saga.id, 'chargePayment');
    expect(JSON.parse(declined!.value)).toMatchObject({
      outcome: 'failure',
      failure: { retryable: false, type: 'card-declined' },
    });
    expect(declined!.headers['sagaflow-message-type']).toBe('reply.failure');
  });

  it('drops the second reply to the same command (same reply messageId): applied once, nothing ignored', async () => {
    const duplicatesBefore = replies.totals.duplicates;
    const orderId = `order-twice-${randomUUID().slice(0, 8)}`;
    payment.handleTwice.add(orderId);
    const saga = await start({ orderId });
    const done = await waitFor(saga.id, 'completed');
    await eventually('the second reply to be dropped', async () =>
      replies.totals.duplicates > duplicatesBefore ? true : undefined,
    );

    // Two identical replies went out: the second replayed from the idempotency record.
    const sent = repliesOf(saga.id, 'chargePayment');
    expect(sent).toHaveLength(2);
    expect(sent[1]!.value).toBe(sent[0]!.value);
    expect(JSON.parse(sent[0]!.value).messageId).toBe(`reply:${saga.id}:chargePayment:forward:1`);
    expect(payment.charges.filter((c) => c.sagaId === saga.id)).toHaveLength(1);

    // The orchestrator applied the first and dropped the second by message id: a second
    // application would have been journaled as `reply.ignored` (stale).
    expect(replies.totals.duplicates - duplicatesBefore).toBe(1);
    expect(done.version).toBe(1 + STEPS.length);
    const timeline = await journal(saga.id);
    expect(lines(timeline)).toEqual(COMPLETED_LINES);
    const inbox = await dataSource.query(
      `SELECT count(*)::int AS n FROM inbox_message WHERE message_id = $1`,
      [`reply:${saga.id}:chargePayment:forward:1`],
    );
    expect(inbox[0].n).toBe(1);
  });

  it('lets a corrected reply through with the id of a parked one (a parked reply does not use up its id)', async () => {
    const duplicatesBefore = replies.totals.duplicates;
    const orderId = `order-wrong-${randomUUID().slice(0, 8)}`;
    payment.firstReplyWrong.add(orderId);
    // The correction is published once the wrong reply is parked (a correction in the same
    // consumer batch would be lost: see test/persistence/reply-batch.test.ts).
    payment.beforeCorrection = (command) =>
      eventually('the wrong reply to be parked', async () => {
        const rows = await dataSource.query(`SELECT 1 FROM parked_message WHERE saga_id = $1`, [
          command.sagaId,
        ]);
        return rows.length > 0 ? true : undefined;
      });
    let done: SagaInstance;
    let sagaId: string;
    try {
      const saga = await start({ orderId });
      sagaId = saga.id;
      done = await waitFor(saga.id, 'completed');
    } finally {
      payment.beforeCorrection = null;
    }

    const parked = await dataSource.query(
      `SELECT reason_code, saga_id FROM parked_message WHERE saga_id = $1`,
      [sagaId],
    );
    expect(parked).toEqual([{ reason_code: 'invalid-reply', saga_id: sagaId }]);
    const sent = repliesOf(sagaId, 'chargePayment').map((t) => JSON.parse(t.value));
    expect(sent.map((r) => [r.messageId, r.data])).toEqual([
      [`reply:${sagaId}:chargePayment:forward:1`, { charge: 'wrong-field' }],
      [`reply:${sagaId}:chargePayment:forward:1`, { chargeId: expect.any(String) }],
    ]);
    // The corrected reply was applied, not dropped as a duplicate.
    expect(replies.totals.duplicates).toBe(duplicatesBefore);
    expect(done.data).toMatchObject({ chargeId: sent[1].data.chargeId });
    expect(lines(await journal(sagaId))).toEqual(COMPLETED_LINES);
    const inbox = await dataSource.query(
      `SELECT count(*)::int AS n FROM inbox_message WHERE message_id = $1`,
      [`reply:${sagaId}:chargePayment:forward:1`],
    );
    expect(inbox[0].n).toBe(1);
  });

  it('applies a notification without replying, and answers the same command when it expects a reply', async () => {
    // Hand-made commands on the payment topic, both keyed by one id (one partition, in order).
    const sagaId = randomUUID();
    const command = (step: string, expectsReply: boolean) => ({
      protocol: 'sagaflow.v1',
      messageId: `${sagaId}:${step}:forward:1`,
      sagaId,
      sagaType: 'receipts',
      sagaVersion: 1,
      step,
      kind: 'forward',
      attempt: 1,
      idempotencyKey: `${sagaId}:${step}:forward`,
      commandType: 'payment.receipt',
      replyTopic: config.replyTopic,
      expectsReply,
      compensates: null,
      payload: {},
    });
    await producer.send({
      topic: `${config.topicPrefix}payment.commands`,
      acks: -1,
      messages: [
        { key: sagaId, value: JSON.stringify(command('sendReceipt', false)) },
        { key: sagaId, value: JSON.stringify(command('askReceipt', true)) },
      ],
    });

    const answered = await eventually('the reply to the command expecting one', async () =>
      tapped.find((t) => t.topic === config.replyTopic && t.headers['sagaflow-saga-id'] === sagaId),
    );
    expect(JSON.parse(answered.value)).toMatchObject({
      step: 'askReceipt',
      outcome: 'failure',
      failure: { retryable: false, type: 'unknown-command' },
    });
    expect(payment.received.filter((r) => r.command.sagaId === sagaId)).toHaveLength(2);
    expect(repliesOf(sagaId, 'sendReceipt')).toEqual([]);
  });
});
