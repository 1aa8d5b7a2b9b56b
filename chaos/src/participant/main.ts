import { loadConfig } from '@sagaflow/config';
import {
  CommandEnvelope,
  createKafka,
  decodeCommand,
  ensureTopics,
  headersToStrings,
  HEADERS,
  ReplyEnvelope,
} from '@sagaflow/messaging';
import {
  CommandProcessor,
  ParticipantConsumer,
  ProcessedCommandStore,
} from '@sagaflow/participant';
import { EachMessagePayload } from 'kafkajs';
import { Pool } from 'pg';
import { ChaosService, ledgerSchema, SERVICES } from '../plan';
import { ParticipantFaultRates } from '../profiles';
import { FaultDecider } from './faults';
import { FaultRecorder, faultRecorder, handlersFor } from './handlers';
import { ensureLedger } from './ledger';
import { ReplySender } from './reply-sender';

/**
 * One simulated participant service (`CHAOS_SERVICE`: credit, inventory, payment or order) on
 * the participant kit's CommandProcessor (apply once per idempotency key, in one transaction
 * with the ledger) and ParticipantConsumer (survives broker restarts), with its own message
 * loop around them so it can misbehave where the kit would not: pause before handling, kill
 * itself after applying and before replying, hold a reply back past the step's timeout, send
 * a reply twice.
 */
async function main(): Promise<void> {
  const service = process.env.CHAOS_SERVICE as ChaosService;
  if (!SERVICES.includes(service))
    throw new Error(`CHAOS_SERVICE must be one of ${SERVICES.join(', ')}`);
  const config = loadConfig();
  const rates = JSON.parse(process.env.CHAOS_PARTICIPANT_FAULTS ?? '{}') as ParticipantFaultRates;
  const faults = new FaultDecider(process.env.CHAOS_SEED ?? '0', rates);
  const pool = new Pool({
    connectionString: config.databaseUrl,
    max: 6,
    application_name: `chaos-${service}`,
  });
  pool.on('connect', (client) => client.on('error', () => undefined));
  pool.on('error', () => undefined);
  const schema = ledgerSchema(service);
  const store = new ProcessedCommandStore(schema);
  const client = await pool.connect();
  try {
    await ensureLedger(client, schema);
    await store.ensureSchema(client);
  } finally {
    client.release();
  }
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: `chaos-${service}` });
  const topic = `${config.topicPrefix}${service}.commands`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic, config.replyTopic], config.topicPartitions);
  await admin.disconnect();

  const recordFault = faultRecorder(pool, service);
  const processor = new CommandProcessor(pool, store, handlersFor(service, faults, recordFault));
  const loop = new MessageLoop(
    service,
    pool,
    processor,
    new ReplySender(kafka),
    faults,
    recordFault,
  );
  const consumer = new ParticipantConsumer(kafka, {
    groupId: `${config.topicPrefix}chaos-${service}`,
    topics: [topic],
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
    concurrency: 4,
    eachMessage: (payload) => loop.onMessage(payload),
  });
  await consumer.start();
  process.stdout.write(`chaos participant ready: ${service}\n`);
  const shutdown = async () => {
    await consumer.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

class MessageLoop {
  constructor(
    private readonly service: ChaosService,
    private readonly pool: Pool,
    private readonly processor: CommandProcessor,
    private readonly sender: ReplySender,
    private readonly faults: FaultDecider,
    private readonly recordFault: FaultRecorder,
  ) {}

  async onMessage({ message }: EachMessagePayload): Promise<void> {
    const decoded = decodeCommand(message.value);
    if (!decoded.ok) {
      process.stderr.write(
        `chaos participant ${this.service}: skipped a malformed command: ${decoded.reason}\n`,
      );
      return;
    }
    const command = decoded.value;
    await this.countDelivery(command);
    const slow = this.faults.slowMs(command);
    if (slow > 0) {
      await this.recordFault('slow', command, { ms: slow });
      await new Promise((r) => setTimeout(r, slow));
    }
    const reply = await this.processor.process(command);
    if (!command.expectsReply) return settleNotification(reply);
    if (isFinal(reply) && this.faults.crashAfterApply(command)) await this.maybeCrash(command);
    const traceparent = headersToStrings(message.headers)[HEADERS.traceparent];
    const late = this.faults.lateReplyMs(command);
    if (late > 0) {
      await this.recordFault('late-reply', command, { heldMs: late });
      setTimeout(() => {
        this.sender.send(reply, command.replyTopic, traceparent).catch(() => undefined);
      }, late);
      return;
    }
    await this.sender.send(reply, command.replyTopic, traceparent);
    if (this.faults.duplicateReply(command)) {
      await this.recordFault('duplicate-reply', command);
      await this.sender.send(reply, command.replyTopic, traceparent);
    }
  }

  private async countDelivery(command: CommandEnvelope): Promise<void> {
    await this.pool.query(
      `INSERT INTO chaos.delivery (service, message_id, saga_id, step, kind, deliveries)
       VALUES ($1, $2, $3, $4, $5, 1)
       ON CONFLICT (service, message_id) DO UPDATE SET deliveries = chaos.delivery.deliveries + 1`,
      [this.service, command.messageId, command.sagaId, command.step, command.kind],
    );
  }

  /**
   * Dies (SIGKILL) with the command applied and committed but not answered, once per command
   * and within the run's budget: the harness restarts the process, Kafka delivers the command
   * again, and the kit must answer it from its record without applying it twice.
   */
  private async maybeCrash(command: CommandEnvelope): Promise<void> {
    const claimed = await this.pool.query(
      `INSERT INTO chaos.participant_crash (message_id, service)
       SELECT $1, $2 WHERE (SELECT count(*) FROM chaos.participant_crash) < $3
       ON CONFLICT (message_id) DO NOTHING RETURNING message_id`,
      [command.messageId, this.service, this.faults.crashBudget],
    );
    if ((claimed.rowCount ?? 0) === 0) return;
    await this.recordFault('participant-crash-after-apply', command);
    process.stderr.write(
      `chaos participant ${this.service}: crashing after applying ${command.messageId}\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  }
}

/** A final outcome (success or rejection) was recorded: a retryable failure applied nothing. */
function isFinal(reply: ReplyEnvelope): boolean {
  return reply.outcome === 'success' || !reply.failure.retryable;
}

/** As the kit: a notification's transient failure is redelivered by Kafka (throw), never answered. */
function settleNotification(reply: ReplyEnvelope): void {
  if (reply.outcome === 'failure' && reply.failure.retryable)
    throw new Error(`notification failed transiently, delivered again: ${reply.failure.message}`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `chaos participant failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
