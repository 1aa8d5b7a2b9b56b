import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { SagaInstance, SagaStatus } from '@sagaflow/engine';
import {
  CommandEnvelope,
  createIdempotentProducer,
  createKafka,
  decodeReply,
  ensureTopics,
  headersToStrings,
  ReplyEnvelope,
} from '@sagaflow/messaging';
import {
  handle,
  HandlerRegistration,
  ParticipantService,
  SagaflowTransport,
} from '@sagaflow/participant';
import {
  createDataSource,
  DefinitionRepository,
  JournalRepository,
  runMigrations,
  SagaInstanceRepository,
  TimelineEntry,
  withConnection,
  withTransaction,
} from '@sagaflow/persistence';
import {
  bootstrapStore,
  DefinitionRegistry,
  OutboxRelay,
  ReplyBatchProcessor,
  ReplyConsumer,
  StartSaga,
  TimerProcessor,
  sagaflowTopics,
} from '@sagaflow/runtime';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { ConfirmOrder, NotifyCustomer, OrderInput, orderSaga } from '@sagaflow/sample-order';
import { Consumer, IHeaders, Kafka, Partitioners, Producer } from 'kafkajs';
import { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import {
  CREDIT_SCHEMA,
  creditHandlers,
  ensureCreditTables,
} from '../../apps/sample-participants/src/credit.participant';
import { ensureLedger } from '../../apps/sample-participants/src/effect-ledger';
import {
  ensureInventoryTables,
  INVENTORY_SCHEMA,
  inventoryHandlers,
} from '../../apps/sample-participants/src/inventory.participant';
import { ORDER_SCHEMA } from '../../apps/sample-participants/src/order.controller';
import { OrderModule } from '../../apps/sample-participants/src/order.module';
import {
  PAYMENT_SCHEMA,
  paymentHandlers,
} from '../../apps/sample-participants/src/payment.participant';
import {
  createTestDatabase,
  deleteTopics,
  eventually,
  KAFKA_BROKERS,
  uniqueTopicPrefix,
} from './infrastructure';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** Runs cleanup steps in reverse order of registration; every step runs even if one fails. */
export class Teardown {
  private readonly steps: Array<{ what: string; run: () => Promise<unknown> }> = [];

  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push({ what, run });
  }

  async run(): Promise<void> {
    const errors: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      await step
        .run()
        .catch((error: unknown) =>
          errors.push(`${step.what}: ${error instanceof Error ? error.message : String(error)}`),
        );
    }
    if (errors.length > 0) throw new Error(`teardown failed:\n${errors.join('\n')}`);
  }
}

// ------------------------------------------------------------------ store only

/** A fresh database of its own with the schema migrated (and, optionally, definitions registered). */
export interface TestStore {
  readonly url: string;
  readonly dataSource: DataSource;
  /** Destroys the DataSource and drops the database. */
  close(): Promise<void>;
}

export async function createMigratedStore(
  options: { prefix?: string; register?: readonly SagaDefinition[] } = {},
): Promise<TestStore> {
  const teardown = new Teardown();
  try {
    const db = await createTestDatabase(options.prefix);
    teardown.add('drop database', () => db.drop());
    const dataSource = createDataSource({
      url: db.url,
      poolSize: 6,
      applicationName: 'sagaflow-test',
    });
    await dataSource.initialize();
    teardown.add('destroy DataSource', () => dataSource.destroy());
    await runMigrations(dataSource);
    const definitions = new DefinitionRepository();
    for (const definition of options.register ?? []) {
      await withTransaction(dataSource, (sql) => definitions.register(sql, definition.compiled));
    }
    return { url: db.url, dataSource, close: () => teardown.run() };
  } catch (error) {
    await teardown.run().catch(() => undefined);
    throw error;
  }
}

/** Valid input for the sample order saga; every call gets its own order and customer (credit limits are per customer). */
export function orderInput(overrides: Partial<OrderInput> = {}): OrderInput {
  const id = randomUUID().slice(0, 8);
  return {
    orderId: `order-${id}`,
    customerId: `customer-${id}`,
    sku: 'SKU-1',
    quantity: 2,
    amount: 100,
    card: '4242424242424242',
    ...overrides,
  };
}

/** `count(*)` of a query as a number. */
export async function countRows(
  dataSource: DataSource,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  const rows: Array<{ n: string }> = await dataSource.query(
    `SELECT count(*) AS n FROM (${sql}) AS counted`,
    params,
  );
  return Number(rows[0]!.n);
}

// ------------------------------------------------------------------ the in-process stack

/** One effect a sample participant applied, from the four effect ledgers. */
export interface LedgerEffect {
  readonly participant: 'credit' | 'inventory' | 'payment' | 'order';
  readonly step: string;
  readonly kind: 'forward' | 'compensate';
  readonly commandType: string;
  readonly detail: Record<string, unknown>;
}

/** A message seen on the reply topic, as it was on the wire. */
export interface TappedReply {
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
  /** The decoded envelope, or null when the message is not a valid reply. */
  readonly reply: ReplyEnvelope | null;
}

const LEDGERS: ReadonlyArray<readonly [LedgerEffect['participant'], string]> = [
  ['credit', CREDIT_SCHEMA],
  ['inventory', INVENTORY_SCHEMA],
  ['payment', PAYMENT_SCHEMA],
  ['order', ORDER_SCHEMA],
];

const PLAIN_PARTICIPANTS: ReadonlyArray<{
  name: string;
  schema: string;
  topic: string;
  handlers: HandlerRegistration[];
  tables?: (c: PoolClient) => Promise<void>;
}> = [
  {
    name: 'credit',
    schema: CREDIT_SCHEMA,
    topic: 'credit.commands',
    handlers: creditHandlers,
    tables: ensureCreditTables,
  },
  {
    name: 'inventory',
    schema: INVENTORY_SCHEMA,
    topic: 'inventory.commands',
    handlers: inventoryHandlers,
    tables: ensureInventoryTables,
  },
  { name: 'payment', schema: PAYMENT_SCHEMA, topic: 'payment.commands', handlers: paymentHandlers },
];

export interface OrderStackOptions {
  /** Partitions of every topic the stack creates (default 3). */
  readonly partitions?: number;
  /**
   * More saga definitions the orchestrator runs besides the sample order saga (for example a
   * variant with short timeouts). They must only use the sample's commands.
   */
  readonly definitions?: readonly SagaDefinition[];
}

/**
 * Runs before every handler of the three plain sample participants (credit, inventory,
 * payment), inside the handler's transaction: a test can delay or fail a command with it.
 */
export type BeforeHandle = (command: CommandEnvelope, payload: unknown) => Promise<void> | void;

/**
 * The whole sample deployment in this process, on a database and a topic prefix of its own:
 * the orchestrator pieces (store, StartSaga, OutboxRelay, ReplyBatchProcessor + ReplyConsumer),
 * the TimerProcessor (timeouts, retries, deadlines), the three plain sample participants
 * (ParticipantService) and the order service as a real NestJS microservice on
 * SagaflowTransport. A tap consumer records every message on the reply topic.
 */
export class OrderStack {
  /** Every message seen on the reply topic, in arrival order. */
  readonly tapped: TappedReply[] = [];
  /** See BeforeHandle; null runs the handlers as they are. */
  beforeHandle: BeforeHandle | null = null;
  private readonly instances = new SagaInstanceRepository();
  private readonly journalRepo = new JournalRepository();

  private constructor(
    readonly config: SagaflowConfig,
    readonly kafka: Kafka,
    readonly dataSource: DataSource,
    readonly registry: DefinitionRegistry,
    readonly startSaga: StartSaga,
    readonly relay: OutboxRelay,
    readonly replies: ReplyConsumer,
    readonly processor: ReplyBatchProcessor,
    /** Fires due timers every 20 ms. */
    readonly timers: TimerProcessor,
    /** A plain producer for tests that inject messages (same partitioner as the apps). */
    readonly producer: Producer,
    /** The participants' pool (same database, their own schemas). */
    readonly participantPool: Pool,
    private readonly teardown: Teardown,
  ) {}

  get replyTopic(): string {
    return this.config.replyTopic;
  }

  get topicPrefix(): string {
    return this.config.topicPrefix;
  }

  static async start(options: OrderStackOptions = {}): Promise<OrderStack> {
    const teardown = new Teardown();
    const topicPrefix = uniqueTopicPrefix();
    teardown.add('delete topics', () => deleteTopics(topicPrefix));
    try {
      const db = await createTestDatabase('sagaflow_roundtrip');
      teardown.add('drop database', () => db.drop());
      const config = loadConfig({
        DATABASE_URL: db.url,
        KAFKA_BROKERS: KAFKA_BROKERS.join(','),
        SAGAFLOW_TOPIC_PREFIX: topicPrefix,
        SAGAFLOW_DB_POOL_SIZE: '8',
      });
      const registry = new DefinitionRegistry([orderSaga, ...(options.definitions ?? [])]);
      const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'sagaflow-test' });

      // Orchestrator: store, topics, relay, reply consumer.
      const dataSource = await bootstrapStore(config, registry, {
        migrate: true,
        applicationName: 'sagaflow-test-orchestrator',
      });
      teardown.add('destroy DataSource', () => dataSource.destroy());
      await provisionTopics(kafka, config, registry, options.partitions ?? 3);
      const relayProducer = createIdempotentProducer(kafka);
      await relayProducer.connect();
      teardown.add('disconnect relay producer', () => relayProducer.disconnect());
      const relay = new OutboxRelay(dataSource, relayProducer, {
        idleMs: 20,
        onError: (e) => process.stderr.write(`outbox relay: ${String(e)}\n`),
      });
      relay.start();
      teardown.add('stop relay', () => relay.stop());
      const processor = new ReplyBatchProcessor(dataSource, registry, config);
      const timers = new TimerProcessor(dataSource, registry, config, {
        pollMs: 20,
        onError: (e) => process.stderr.write(`timers: ${String(e)}\n`),
      });
      timers.start();
      teardown.add('stop timers', () => timers.stop());
      const replies = new ReplyConsumer(kafka, processor, {
        groupId: `${topicPrefix}orchestrator`,
        topic: config.replyTopic,
      });

      // Participants: their own pool, ledgers and tables first, then the services.
      const participantPool = new Pool({
        connectionString: db.url,
        max: 16,
        application_name: 'sagaflow-test-participants',
      });
      // A client still closing when the database is dropped emits 'error': not a test failure.
      participantPool.on('error', () => undefined);
      teardown.add('end participant pool', () => participantPool.end());
      await withClient(participantPool, async (client) => {
        for (const [, schema] of LEDGERS) await ensureLedger(client, schema);
        for (const p of PLAIN_PARTICIPANTS) await p.tables?.(client);
      });
      const producer = kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      teardown.add('disconnect test producer', () => producer.disconnect());

      const stack = new OrderStack(
        config,
        kafka,
        dataSource,
        registry,
        new StartSaga(dataSource, registry, config),
        relay,
        replies,
        processor,
        timers,
        producer,
        participantPool,
        teardown,
      );
      await Promise.all([
        replies.start().then(() => teardown.add('stop reply consumer', () => replies.stop())),
        ...PLAIN_PARTICIPANTS.map((p) => stack.startParticipant(p)),
        stack.startOrderService(),
        stack.startTap(),
      ]);
      return stack;
    } catch (error) {
      await teardown.run().catch(() => undefined);
      throw error;
    }
  }

  /** Stops consumers, producers, the Nest microservice and pools, then drops the database and deletes the topics. */
  stop(): Promise<void> {
    return this.teardown.run();
  }

  // ---------------------------------------------------------------- sagas

  /**
   * Starts an order saga through StartSaga (as the admin API would); `sagaType` picks another
   * definition from `OrderStackOptions.definitions` that takes the order input.
   */
  async start(overrides: Partial<OrderInput> = {}, sagaType = 'order'): Promise<SagaInstance> {
    const input = orderInput(overrides);
    const { instance } = await this.startSaga.execute({
      sagaType,
      input,
      idempotencyKey: `test:${input.orderId}`,
      businessKey: input.orderId,
      actor: 'test',
    });
    return instance;
  }

  async load(sagaId: string): Promise<SagaInstance> {
    const stored = await withConnection(this.dataSource, (sql) =>
      this.instances.findById(sql, sagaId),
    );
    if (!stored) throw new Error(`no saga instance ${sagaId}`);
    return stored.instance;
  }

  /** Waits until the saga has `status` (and, if given, passes `also`). */
  waitFor(
    sagaId: string,
    status: SagaStatus,
    also: (i: SagaInstance) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<SagaInstance> {
    return eventually(
      `saga ${sagaId} to be ${status}`,
      async () => {
        const instance = await this.load(sagaId);
        return instance.status === status && also(instance) ? instance : undefined;
      },
      timeoutMs,
      50,
    );
  }

  journal(sagaId: string): Promise<TimelineEntry[]> {
    return withConnection(this.dataSource, (sql) => this.journalRepo.timeline(sql, sagaId));
  }

  /** Every effect the four sample participants applied for a saga, in the order they were applied. */
  async ledger(sagaId: string): Promise<LedgerEffect[]> {
    const union = LEDGERS.map(
      ([name, schema]) =>
        `SELECT '${name}' AS participant, step, kind, command_type, detail, applied_at, id FROM ${schema}.effect_ledger WHERE saga_id = $1`,
    ).join(' UNION ALL ');
    const { rows } = await this.participantPool.query(`${union} ORDER BY applied_at, id`, [sagaId]);
    return rows.map((r) => ({
      participant: r.participant,
      step: r.step,
      kind: r.kind,
      commandType: r.command_type,
      detail: r.detail,
    }));
  }

  async outboxBacklog(): Promise<number> {
    return countRows(this.dataSource, 'SELECT 1 FROM outbox_message');
  }

  /** Replies seen on the reply topic for one saga (valid envelopes only). */
  tappedReplies(sagaId: string): TappedReply[] {
    return this.tapped.filter((t) => t.reply?.sagaId === sagaId);
  }

  /** Publishes raw messages to the reply topic. */
  async publishReplies(
    messages: Array<{
      key: string | Buffer | null;
      value: string | Buffer | null;
      headers?: IHeaders;
      partition?: number;
    }>,
  ): Promise<void> {
    await this.producer.send({ topic: this.replyTopic, acks: -1, messages });
  }

  // ---------------------------------------------------------------- startup pieces

  private async startParticipant(p: (typeof PLAIN_PARTICIPANTS)[number]): Promise<void> {
    const service = new ParticipantService({
      kafka: this.kafka,
      pool: this.participantPool,
      schema: p.schema,
      groupId: `${this.topicPrefix}sample-${p.name}`,
      topics: [`${this.topicPrefix}${p.topic}`],
      handlers: p.handlers.map((h) =>
        handle(h.command, async (payload, ctx) => {
          await this.beforeHandle?.(ctx.command, payload);
          return h.handle(payload, ctx);
        }),
      ),
      onMalformed: (reason, topic, offset) =>
        process.stderr.write(`${p.name}: malformed command at ${topic}@${offset}: ${reason}\n`),
    });
    await service.start();
    this.teardown.add(`stop ${p.name} participant`, () => service.stop());
  }

  /** The order service exactly as the sample app runs it: a Nest microservice on SagaflowTransport. */
  private async startOrderService(): Promise<void> {
    const strategy = new SagaflowTransport({
      kafka: this.kafka,
      pool: this.participantPool,
      schema: ORDER_SCHEMA,
      groupId: `${this.topicPrefix}sample-order`,
      topics: [`${this.topicPrefix}order.commands`],
      commands: [ConfirmOrder, NotifyCustomer],
    });
    const app: INestMicroservice = await NestFactory.createMicroservice(OrderModule, {
      strategy,
      logger: ['error', 'warn'],
    });
    await app.listen();
    this.teardown.add('close order microservice', () => app.close());
  }

  private async startTap(): Promise<void> {
    const tap: Consumer = this.kafka.consumer({
      groupId: `${this.topicPrefix}test-tap`,
      maxWaitTimeInMs: 50,
    });
    await tap.connect();
    this.teardown.add('disconnect tap', () => tap.disconnect());
    await tap.subscribe({ topic: this.replyTopic, fromBeginning: true });
    await tap.run({
      eachMessage: async ({ partition, message }) => {
        const decoded = decodeReply(message.value);
        this.tapped.push({
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers: message.headers ?? {},
          reply: decoded.ok ? decoded.value : null,
        });
      },
    });
  }
}

async function provisionTopics(
  kafka: Kafka,
  config: SagaflowConfig,
  registry: DefinitionRegistry,
  partitions: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, sagaflowTopics(config, registry), partitions);
  } finally {
    await admin.disconnect();
  }
}

async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

/** The string headers of a tapped message (for assertions and re-publishing). */
export function stringHeaders(headers: IHeaders): Record<string, string> {
  return headersToStrings(headers as Record<string, unknown>);
}

/**
 * A second saga type for tests that need two (the example definitions module's refund saga):
 * registered in the store (as if another team's build, or an older one, had registered it) but
 * not run by the sample apps unless `SAGAFLOW_DEFINITIONS` names that module.
 */
export { refundSaga } from '../../examples/definitions/refund';
