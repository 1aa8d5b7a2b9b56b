import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { createKafka, ensureTopics } from '@sagaflow/messaging';
import {
  HandlerRegistration,
  ParticipantKafkaSettings,
  ParticipantService,
  SagaflowTransport,
} from '@sagaflow/participant';
import { ConfirmOrder, NotifyCustomer, ORDER_COMMAND_TOPICS } from '@sagaflow/sample-order';
import { Kafka } from 'kafkajs';
import { Pool, PoolClient } from 'pg';
import { CREDIT_SCHEMA, creditHandlers, ensureCreditTables } from './credit.participant';
import { ensureLedger } from './effect-ledger';
import {
  ensureInventoryTables,
  INVENTORY_SCHEMA,
  inventoryHandlers,
} from './inventory.participant';
import { ORDER_SCHEMA } from './order.controller';
import { OrderModule } from './order.module';
import { PAYMENT_SCHEMA, paymentHandlers } from './payment.participant';

interface PlainParticipant {
  readonly schema: string;
  readonly topic: string;
  readonly handlers: HandlerRegistration[];
  readonly tables?: (client: PoolClient) => Promise<void>;
}

const PLAIN: Record<string, PlainParticipant> = {
  credit: {
    schema: CREDIT_SCHEMA,
    topic: 'credit.commands',
    handlers: creditHandlers,
    tables: ensureCreditTables,
  },
  inventory: {
    schema: INVENTORY_SCHEMA,
    topic: 'inventory.commands',
    handlers: inventoryHandlers,
    tables: ensureInventoryTables,
  },
  payment: { schema: PAYMENT_SCHEMA, topic: 'payment.commands', handlers: paymentHandlers },
};
const ALL = ['credit', 'inventory', 'payment', 'order'];

/** Starts the sample participants named in PARTICIPANTS (default: all four) in this process. */
async function main(): Promise<void> {
  const config = loadConfig();
  const names = (process.env.PARTICIPANTS ?? ALL.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !ALL.includes(n));
  if (unknown.length > 0)
    throw new Error(
      `PARTICIPANTS names unknown services: ${unknown.join(', ')}; choose from ${ALL.join(', ')}.`,
    );
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'sample-participants' });
  const pool = new Pool({
    connectionString: config.databaseUrl,
    max: 4 * names.length,
    application_name: 'sample-participants',
  });
  survivePoolErrors(pool);
  await provisionTopics(kafka, config);
  const stops: Array<() => Promise<unknown>> = [];
  for (const name of names) stops.push(await startOne(name, kafka, pool, config));
  process.stdout.write(`sample participants ready: ${names.join(', ')}\n`);
  const shutdown = async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

async function startOne(
  name: string,
  kafka: Kafka,
  pool: Pool,
  config: SagaflowConfig,
): Promise<() => Promise<unknown>> {
  const schema = name === 'order' ? ORDER_SCHEMA : PLAIN[name]!.schema;
  const client = await pool.connect();
  try {
    await ensureLedger(client, schema);
    await PLAIN[name]?.tables?.(client);
  } finally {
    client.release();
  }
  const groupId = `${config.topicPrefix}sample-${name}`;
  // Same meaning as the orchestrator's: how soon a group gets over a member that vanished.
  const resilience: ParticipantKafkaSettings = {
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
  };
  if (name === 'order') {
    const strategy = new SagaflowTransport({
      kafka,
      pool,
      schema,
      groupId,
      topics: [`${config.topicPrefix}order.commands`],
      commands: [ConfirmOrder, NotifyCustomer],
      ...resilience,
    });
    const app = await NestFactory.createMicroservice(OrderModule, {
      strategy,
      logger: ['error', 'warn'],
    });
    await app.listen();
    return () => app.close();
  }
  const p = PLAIN[name]!;
  const service = new ParticipantService({
    kafka,
    pool,
    schema,
    groupId,
    topics: [`${config.topicPrefix}${p.topic}`],
    handlers: p.handlers,
    ...resilience,
  });
  await service.start();
  return () => service.stop();
}

/**
 * A database connection the server terminated must not kill the process. pg emits 'error' on
 * the pool for an idle connection, and on the client itself for a checked-out one that has no
 * query running (e.g. between a handler's queries, or after COMMIT and before release): with
 * no listener that is an uncaught exception. The query in progress, if any, still fails and
 * the command is retried; the pool drops the broken client on release.
 */
function survivePoolErrors(pool: Pool): void {
  const log = (error: Error) =>
    process.stderr.write(`sample participants: database connection lost: ${error.message}\n`);
  pool.on('connect', (client) => client.on('error', log));
  pool.on('error', () => undefined); // an idle client's error, already logged by its own listener
}

/** Participants may start before the orchestrator, so they create the topics they need too. */
async function provisionTopics(kafka: Kafka, config: SagaflowConfig): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [
      ...ORDER_COMMAND_TOPICS.map((t) => `${config.topicPrefix}${t}`),
      config.replyTopic,
    ];
    await ensureTopics(admin, topics, config.topicPartitions);
  } finally {
    await admin.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sample participants failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
