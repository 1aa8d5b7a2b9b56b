import { loadConfig } from '@sagaflow/config';
import {
  createIdempotentProducer,
  createKafka,
  decodeCommand,
  encodeReply,
  ensureTopics,
  PROTOCOL,
  ReplyEnvelope,
  CommandEnvelope,
  replyMessageId,
  WireMessage,
} from '@sagaflow/messaging';
import { EachBatchPayload, Message } from 'kafkajs';
import { BENCH_COMMAND_TOPICS } from '../saga/bench-commands';
import { benchReply } from '../saga/bench-replies';

/**
 * A participant that answers every bench command at once, success, with no database: the bench
 * measures the engine, not a service. It keeps the wire contract (reply ids derived from the
 * command id, the idempotent producer) and replies to a whole fetched batch in one send.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'bench-participant' });
  const topics = BENCH_COMMAND_TOPICS.map((t) => `${config.topicPrefix}${t}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [...topics, config.replyTopic], config.topicPartitions);
  await admin.disconnect();
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: `${config.topicPrefix}bench-participant`,
    maxWaitTimeInMs: 20,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: config.topicPartitions * topics.length,
    eachBatch: async ({ batch }: EachBatchPayload) => {
      const replies = batch.messages.flatMap((m) => {
        const decoded = decodeCommand(m.value);
        return decoded.ok && decoded.value.expectsReply
          ? [encodeReply(answer(decoded.value), decoded.value.replyTopic)]
          : [];
      });
      if (replies.length > 0)
        await producer.sendBatch({ acks: -1, topicMessages: byTopic(replies) });
    },
  });
  process.stdout.write('bench participant ready\n');
  const stop = async () => {
    await consumer.disconnect();
    await producer.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function byTopic(wires: readonly WireMessage[]) {
  const topics = new Map<string, Message[]>();
  for (const w of wires) {
    const list = topics.get(w.topic) ?? [];
    list.push({ key: w.key, value: JSON.stringify(w.body), headers: w.headers });
    topics.set(w.topic, list);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

function answer(command: CommandEnvelope): ReplyEnvelope {
  return {
    protocol: PROTOCOL,
    messageId: replyMessageId(command.messageId),
    inReplyTo: command.messageId,
    sagaId: command.sagaId,
    step: command.step,
    kind: command.kind,
    attempt: command.attempt,
    idempotencyKey: command.idempotencyKey,
    outcome: 'success',
    data: benchReply(command.commandType),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench participant failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
