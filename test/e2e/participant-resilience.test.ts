import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeReply, encodeCommand, ensureTopics, ReplyEnvelope } from '@sagaflow/messaging';
import {
  handle,
  ParticipantConsumer,
  ParticipantRecovery,
  ParticipantService,
} from '@sagaflow/participant';
import { defineCommand } from '@sagaflow/saga-dsl';
import { Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { Pool } from 'pg';
import { z } from 'zod';
import { forwardCommand } from '../support/commands';
import { Teardown } from '../support/fixtures';
import { Broker, kafkaSh } from '../support/own-broker';
import { createTestDatabase, eventually, uniqueTopicPrefix } from '../support/infrastructure';
import { freePort } from '../support/stack';

/*
 * The participant kit against a real broker that goes away: a ParticipantService (session
 * timeout 6 s) keeps answering commands across a broker restart and across a handler that
 * stalls past its session, applying each command once. The broker is this file's own (its own
 * ports and data dir), so stopping it disturbs no other test. The recovery paths a real broker
 * cannot be made to take on demand (a non-retriable crash, a fenced producer) are unit-tested
 * against a fake client: libs/participant/src/participant-recovery.spec.ts.
 */

const SESSION_TIMEOUT_MS = 6000;
const SCHEMA = 'resilience_participant';

const Note = defineCommand({
  type: 'notes.write',
  topic: 'notes.commands',
  payload: z.object({ text: z.string(), stallMs: z.number().int().nonnegative() }),
  reply: z.object({}),
});

/**
 * The apps' client settings (createKafka), with kafkajs' log kept in `lines` instead of printed:
 * a broker restart makes it noisy, and the failure messages below quote its tail.
 */
function quietKafka(brokers: string[], lines: string[]): Kafka {
  return new Kafka({
    clientId: 'resilience-test',
    brokers,
    logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator:
      () =>
      ({ log }) =>
        lines.push(
          `${new Date().toISOString().slice(11, 23)} ${log.message}${log.error ? `: ${String(log.error)}` : ''}${log.groupId ? ` (${String(log.groupId)})` : ''}`,
        ),
  });
}

describe('participant kit resilience (a broker of its own, restarted)', () => {
  const teardown = new Teardown();
  const replies = new Map<string, ReplyEnvelope[]>();
  const recoveries: Array<{ at: number; recovery: ParticipantRecovery; error: string }> = [];
  const kafkaLog: string[] = [];
  let broker: Broker;
  let kafka: Kafka;
  let pool: Pool;
  let producer: Producer;
  let service: ParticipantService;
  let commandTopic: string;
  let replyTopic: string;

  beforeAll(async () => {
    broker = {
      port: await freePort(),
      controllerPort: await freePort(),
      dir: await mkdtemp(join(tmpdir(), 'sagaflow-participant-kafka-')),
    };
    teardown.add('remove broker dir', () => rm(broker.dir, { recursive: true, force: true }));
    teardown.add('stop broker', () => kafkaSh('stop', broker));
    await kafkaSh('start', broker);
    kafka = quietKafka([`127.0.0.1:${broker.port}`], kafkaLog);
    const prefix = uniqueTopicPrefix();
    commandTopic = `${prefix}${Note.topic}`;
    replyTopic = `${prefix}sagaflow.replies`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [commandTopic, replyTopic], 4);
    } finally {
      await admin.disconnect();
    }

    const db = await createTestDatabase('sagaflow_resilience');
    teardown.add('drop database', () => db.drop());
    pool = new Pool({ connectionString: db.url, max: 8 });
    teardown.add('end pool', () => pool.end());
    await pool.query(`CREATE SCHEMA ${SCHEMA}`);
    await pool.query(`CREATE TABLE ${SCHEMA}.note (saga_id uuid NOT NULL, text text NOT NULL)`);

    service = new ParticipantService({
      kafka,
      pool,
      schema: SCHEMA,
      groupId: `${prefix}notes`,
      topics: [commandTopic],
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      onCrash: (error, recovery) =>
        recoveries.push({ at: Date.now(), recovery, error: String(error).slice(0, 200) }),
      handlers: [
        handle(Note, async ({ text, stallMs }, ctx) => {
          if (stallMs > 0) await new Promise((r) => setTimeout(r, stallMs));
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

    // The tap must survive the restart too: the kit's own consumer rebuilds itself.
    const tap = new ParticipantConsumer(kafka, {
      groupId: `${prefix}tap`,
      topics: [replyTopic],
      concurrency: 4,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      onCrash: () => undefined,
      eachMessage: async ({ message }) => {
        const decoded = decodeReply(message.value);
        if (!decoded.ok) return;
        replies.set(decoded.value.sagaId, [
          ...(replies.get(decoded.value.sagaId) ?? []),
          decoded.value,
        ]);
      },
    });
    await tap.start();
    teardown.add('stop tap', () => tap.stop());

    // Not idempotent: this test's own sender must not be the one the restarted broker fences.
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    teardown.add('disconnect producer', () => producer.disconnect());
  });

  afterAll(() => teardown.run());

  /** Publishes one command per text for new sagas (retrying while the broker settles); returns the saga ids. */
  async function send(texts: readonly string[], stallMs = 0): Promise<string[]> {
    const wires = texts.map((text) => {
      const command = forwardCommand(
        Note,
        { text, stallMs },
        { sagaType: 'notes', step: 'note', replyTopic },
      );
      const { sagaId } = command;
      return { sagaId, wire: encodeCommand(command, commandTopic) };
    });
    await eventually(
      `the test producer to publish ${texts.length} commands`,
      async () => {
        await producer.send({
          topic: commandTopic,
          acks: -1,
          messages: wires.map(({ wire }) => ({
            key: wire.key,
            value: JSON.stringify(wire.body),
            headers: wire.headers,
          })),
        });
        return true;
      },
      60_000,
      500,
    );
    return wires.map((w) => w.sagaId);
  }

  /** Waits until every saga has a success reply; the failure names the ones still unanswered. */
  async function answered(what: string, ids: readonly string[], timeoutMs: number) {
    const missing = () =>
      ids.filter((id) => !replies.get(id)?.some((r) => r.outcome === 'success'));
    await eventually(
      what,
      async () => (missing().length === 0 ? true : undefined),
      timeoutMs,
      50,
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\nunanswered: ${missing().length} of ${ids.length}; ` +
          `recoveries: ${JSON.stringify(recoveries.slice(-10))}; totals: ${JSON.stringify(service.totals)}\n` +
          `kafkajs, last lines:\n${kafkaLog.slice(-25).join('\n')}`,
      );
    });
  }

  /** Each saga's note is in the table exactly once. */
  async function expectAppliedOnce(ids: readonly string[]): Promise<void> {
    const { rows } = await pool.query<{ saga_id: string; n: number }>(
      `SELECT saga_id, count(*)::int AS n FROM ${SCHEMA}.note WHERE saga_id = ANY($1::uuid[]) GROUP BY 1`,
      [ids],
    );
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    expect(rows).toHaveLength(ids.length);
  }

  it('answers commands sent before and after a broker restart, each applied once', async () => {
    const warmup = await send(['warm-up']);
    await answered('the first reply', warmup, 30_000);

    // About 4.5 s of handler work over 4 partitions: the broker goes (a controlled shutdown
    // takes 1.5–3.5 s) while handlers are still busy, so their replies cannot be sent.
    const before = await send(
      Array.from({ length: 60 }, (_, i) => `before-${i}`),
      300,
    );
    const stopAt = Date.now();
    await kafkaSh('stop', broker);
    const stoppedAt = Date.now();
    const unansweredAtStop = before.filter((id) => !replies.has(id)).length;
    if (unansweredAtStop === 0)
      throw new Error(
        `every command was answered before the broker was down (stopping took ${stoppedAt - stopAt} ms): the restart would test nothing`,
      );
    await new Promise((r) => setTimeout(r, 3000));
    const startAt = Date.now();
    await kafkaSh('start', broker);
    const backAt = Date.now();
    const after = await send(Array.from({ length: 20 }, (_, i) => `after-${i}`));
    await answered('every command sent before the restart to be answered', before, 60_000);
    const beforeAnsweredMs = Date.now() - backAt;
    await answered('every command sent after the restart to be answered', after, 60_000);
    const allAnsweredMs = Date.now() - backAt;

    await expectAppliedOnce([...warmup, ...before, ...after]);
    process.stdout.write(
      `participant broker restart figures: ${JSON.stringify({
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        unansweredAtStop,
        brokerStopMs: stoppedAt - stopAt,
        brokerDownMs: backAt - stoppedAt,
        brokerStartMs: backAt - startAt,
        answeredBeforeRestartAfterBackMs: beforeAnsweredMs,
        allAnsweredAfterBackMs: allAnsweredMs,
        recoveries: countBy(recoveries.map((r) => r.recovery)),
        totals: service.totals,
      })}\n`,
    );
    // Bounded by the session timeout and the capped retries, not by kafkajs' 30 s defaults.
    expect(allAnsweredMs).toBeLessThan(45_000);
  });

  it('answers a command whose handler stalls past the session timeout, and those behind it', async () => {
    const crashesBefore = service.totals.crashes;
    const logFrom = kafkaLog.length;
    const stalled = await send(['stalled'], SESSION_TIMEOUT_MS + 3000);
    const sentAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const others = await send(Array.from({ length: 20 }, (_, i) => `meanwhile-${i}`));
    await answered('the stalled command to be answered', stalled, 60_000);
    await answered('the commands sent meanwhile to be answered', others, 60_000);
    const allAnsweredMs = Date.now() - sentAt;
    await expectAppliedOnce([...stalled, ...others]);
    process.stdout.write(
      `participant stalled handler figures: ${JSON.stringify({
        stallMs: SESSION_TIMEOUT_MS + 3000,
        allAnsweredAfterSendMs: allAnsweredMs,
        crashes: service.totals.crashes - crashesBefore,
        // Usually the group drops the silent member and kafkajs rejoins it; that is logged.
        memberDropped: kafkaLog
          .slice(logFrom)
          .some((l) => /not aware of this member|rebalanc/i.test(l)),
        totals: service.totals,
      })}\n`,
    );
  });
});

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
