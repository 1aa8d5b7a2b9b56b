import {
  CommandEnvelope,
  createKafka,
  decodeReply,
  encodeCommand,
  ensureTopics,
  ReplyEnvelope,
} from '@sagaflow/messaging';
import { handle, ParticipantFailure, ParticipantService } from '@sagaflow/participant';
import { defineCommand } from '@sagaflow/saga-dsl';
import { Consumer, Partitioners, Producer } from 'kafkajs';
import { Pool } from 'pg';
import { z } from 'zod';
import { forwardCommand } from '../support/commands';
import { Teardown } from '../support/fixtures';
import {
  createTestDatabase,
  deleteTopics,
  eventually,
  KAFKA_BROKERS,
  testPool,
  uniqueTopicPrefix,
} from '../support/infrastructure';

/*
 * The participant kit and `expectsReply`, over a real broker: a ParticipantService with one
 * handler, fed hand-made command envelopes. A command with `expectsReply: false` (a
 * notification) is applied once per idempotency key and never answered.
 */

const Note = defineCommand({
  type: 'notes.write',
  topic: 'notes.commands',
  payload: z.object({ text: z.string() }),
  reply: z.object({}),
});

const SCHEMA = 'notes_participant';

describe('the participant kit and notifications (expectsReply: false)', () => {
  const teardown = new Teardown();
  const replies: ReplyEnvelope[] = [];
  /** Texts whose first attempt fails with a transient failure. */
  const flaky = new Set<string>();
  const calls = new Map<string, number>();
  let pool: Pool;
  let producer: Producer;
  let commandTopic: string;
  let replyTopic: string;

  beforeAll(async () => {
    const prefix = uniqueTopicPrefix();
    teardown.add('delete topics', () => deleteTopics(prefix));
    const db = await createTestDatabase('sagaflow_notes');
    teardown.add('drop database', () => db.drop());
    commandTopic = `${prefix}${Note.topic}`;
    replyTopic = `${prefix}sagaflow.replies`;
    const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'notes-test' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [commandTopic, replyTopic], 1);
    } finally {
      await admin.disconnect();
    }
    pool = testPool(db.url, { max: 4 });
    teardown.add('end pool', () => pool.end());
    await pool.query(`CREATE SCHEMA ${SCHEMA}`);
    await pool.query(`CREATE TABLE ${SCHEMA}.note (saga_id uuid NOT NULL, text text NOT NULL)`);

    const service = new ParticipantService({
      kafka,
      pool,
      schema: SCHEMA,
      groupId: `${prefix}notes`,
      topics: [commandTopic],
      handlers: [
        handle(Note, async ({ text }, ctx) => {
          const n = (calls.get(text) ?? 0) + 1;
          calls.set(text, n);
          if (flaky.has(text) && n === 1)
            throw ParticipantFailure.transient('mail-server-down', 'try again later');
          await ctx.tx.query(`INSERT INTO ${SCHEMA}.note (saga_id, text) VALUES ($1, $2)`, [
            ctx.command.sagaId,
            text,
          ]);
          return {};
        }),
      ],
    });
    await service.start();
    teardown.add('stop participant', () => service.stop());

    const tap: Consumer = kafka.consumer({ groupId: `${prefix}tap`, maxWaitTimeInMs: 50 });
    await tap.connect();
    teardown.add('disconnect tap', () => tap.disconnect());
    await tap.subscribe({ topic: replyTopic, fromBeginning: true });
    await tap.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeReply(message.value);
        if (decoded.ok) replies.push(decoded.value);
      },
    });

    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    teardown.add('disconnect producer', () => producer.disconnect());
  });

  afterAll(() => teardown.run());

  /** Publishes a command for a new saga; returns its saga id. */
  async function send(text: string, expectsReply: boolean, times = 1): Promise<string> {
    const command: CommandEnvelope = {
      ...forwardCommand(Note, { text }, { sagaType: 'notes', step: 'note', replyTopic }),
      expectsReply,
    };
    const { sagaId } = command;
    const wire = encodeCommand(command, commandTopic);
    for (let i = 0; i < times; i++) {
      await producer.send({
        topic: wire.topic,
        acks: -1,
        messages: [{ key: wire.key, value: JSON.stringify(wire.body), headers: wire.headers }],
      });
    }
    return sagaId;
  }

  const notes = async (sagaId: string) =>
    (await pool.query(`SELECT text FROM ${SCHEMA}.note WHERE saga_id = $1`, [sagaId])).rows;

  it('applies a notification once, even delivered twice, and never replies; the same command expecting a reply is answered', async () => {
    const note = await send('hello', false, 2);
    const answered = await send('hello again', true);

    await eventually('the answered command to be replied to', async () =>
      replies.find((r) => r.sagaId === answered),
    );
    // Same partition, in order: the notification's two copies were handled before.
    expect(await notes(note)).toEqual([{ text: 'hello' }]);
    expect(calls.get('hello')).toBe(1);
    expect(replies.filter((r) => r.sagaId === note)).toEqual([]);
    expect(replies.filter((r) => r.sagaId === answered)).toEqual([
      expect.objectContaining({ outcome: 'success', data: {} }),
    ]);
  });

  // A notification is never answered, so nobody would retry it: the kit leaves the offset
  // uncommitted on a transient failure and Kafka delivers it again until it is applied.
  it('retries a notification whose handler fails transiently, until it is applied', async () => {
    flaky.add('flaky note');
    const note = await send('flaky note', false);
    await eventually(
      'the flaky notification to be applied',
      async () => ((await notes(note)).length === 1 ? true : undefined),
      8_000,
    );
  });
});
