import { randomUUID } from 'node:crypto';
import { createKafka, PROTOCOL } from '@sagaflow/messaging';
import { DEAD_LETTER_HEADERS, deadLetterTopicFor } from '@sagaflow/runtime';
import { AssignerProtocol, IHeaders, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { eventually } from '../support/infrastructure';
import {
  expectAllFinished,
  expectContiguousVersions,
  expectEffectsExactlyOnce,
  OrderOutcome,
  ProcessStack,
  startOrders,
  unfinishedCount,
} from '../support/stack';

const SAGAS = 100;

/** Replies the orchestrators must park, and what their dead-letter copy must look like. */
const POISON: ReadonlyArray<{
  readonly name: string;
  readonly value: Buffer | null;
  readonly reasonCode: string;
  readonly encoding: 'json' | 'base64' | 'absent';
}> = [
  {
    name: 'not-json',
    value: Buffer.from('not json at all'),
    reasonCode: 'malformed',
    encoding: 'base64',
  },
  {
    name: 'not-a-reply',
    value: Buffer.from('{"hello":"world"}'),
    reasonCode: 'malformed',
    encoding: 'json',
  },
  {
    name: 'nul-byte',
    value: Buffer.from('bad\u0000body'),
    reasonCode: 'malformed',
    encoding: 'base64',
  },
  { name: 'no-value', value: null, reasonCode: 'malformed', encoding: 'absent' },
  {
    name: 'unknown-saga',
    value: Buffer.from(
      JSON.stringify({
        protocol: PROTOCOL,
        messageId: 'poison-unknown-saga',
        inReplyTo: 'x',
        sagaId: randomUUID(),
        step: 'reserveCredit',
        kind: 'forward',
        attempt: 1,
        idempotencyKey: 'x',
        outcome: 'success',
        data: {},
      }),
    ),
    reasonCode: 'unknown-saga',
    encoding: 'json',
  },
];

/** The last totals line an orchestrator logged (every 10 s, and once more at shutdown). */
function lastTotals(output: string): { applied: number; published: number; fired: number } | null {
  const lines = output.split('\n').filter((l) => /replies applied=\d+/.test(l));
  const last = lines[lines.length - 1];
  if (!last) return null;
  const num = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(last)?.[1] ?? NaN);
  return { applied: num('applied'), published: num('published'), fired: num('fired') };
}

/**
 * Scale-out: two orchestrator processes on one store and one reply topic share the work through
 * the consumer group (partitions), SKIP LOCKED outbox and timer claims, and optimistic locking.
 * One of them is SIGKILLed in the middle of a batch; the other takes over its partitions (after
 * the 6 s session timeout the stack sets) and every saga still ends as it must, with no effect
 * applied twice and no gap in any instance's versions.
 */
describe('two orchestrators', () => {
  let stack: ProcessStack;
  let db: Client;

  beforeAll(async () => {
    stack = await ProcessStack.create();
    await stack.startOrchestrator('orchestrator-2');
    db = new Client({ connectionString: stack.env.DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  /** The members of the orchestrators' consumer group and how many partitions each holds. */
  async function groupMembers(): Promise<number[]> {
    const admin = createKafka({
      brokers: stack.env.KAFKA_BROKERS!.split(','),
      clientId: 'scale-out-test',
    }).admin();
    await admin.connect();
    try {
      const groupId = `${stack.env.SAGAFLOW_TOPIC_PREFIX}sagaflow-orchestrator`;
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      if (!group || group.state !== 'Stable') return [];
      return group.members.map((m) => {
        const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        return Object.values(decoded?.assignment ?? {}).reduce((n, p) => n + p.length, 0);
      });
    } finally {
      await admin.disconnect();
    }
  }

  /** Reads the dead-letter topic from the start until `count` distinct originals were seen. */
  async function deadLetters(
    count: number,
  ): Promise<Array<{ key: string; headers: Record<string, string>; value: string | null }>> {
    const kafka = createKafka({
      brokers: stack.env.KAFKA_BROKERS!.split(','),
      clientId: 'scale-out-dlt',
    });
    const consumer = kafka.consumer({ groupId: `${stack.env.SAGAFLOW_TOPIC_PREFIX}dlt-reader` });
    const seen: Array<{ key: string; headers: Record<string, string>; value: string | null }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({
        topic: deadLetterTopicFor(`${stack.env.SAGAFLOW_TOPIC_PREFIX}sagaflow.replies`),
        fromBeginning: true,
      });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
          );
          seen.push({
            key: message.key?.toString() ?? '',
            headers,
            value: message.value?.toString() ?? null,
          });
        },
      });
      await eventually(
        `${count} parked replies on the dead-letter topic`,
        async () =>
          new Set(seen.map((m) => m.headers[DEAD_LETTER_HEADERS.origin])).size >= count
            ? true
            : undefined,
        30_000,
        100,
      );
      return seen;
    } finally {
      await consumer.disconnect();
    }
  }

  async function repliesApplied(ids: readonly string[]): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM saga_journal WHERE saga_id = ANY($1::uuid[]) AND type = 'reply.received'`,
      [ids],
    );
    return rows[0]!.n;
  }

  it('share the work, and one survives the SIGKILL of the other', async () => {
    const t0 = Date.now();
    const members = await eventually(
      'both orchestrators to hold partitions of the reply topic',
      async () => {
        const m = await groupMembers();
        return m.length === 2 && m.every((n) => n > 0) ? m : undefined;
      },
      30_000,
      200,
    );
    expect(members).toHaveLength(2);

    const expected = new Map<string, OrderOutcome>();
    const feeding = startOrders(stack, 'scale', SAGAS, 10).then((m) =>
      m.forEach((v, k) => expected.set(k, v)),
    );
    // Replies no orchestrator can apply: each must be parked and copied to the dead-letter topic.
    const producer = createKafka({
      brokers: stack.env.KAFKA_BROKERS!.split(','),
      clientId: 'scale-out-poison',
    }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: `${stack.env.SAGAFLOW_TOPIC_PREFIX}sagaflow.replies`,
      messages: POISON.map((p) => ({
        key: `poison-${p.name}`,
        value: p.value,
        headers: { 'x-test': p.name } as IHeaders,
      })),
    });
    await producer.disconnect();
    // Kill the first orchestrator once a third of the sagas have gone through some replies.
    await eventually(
      'progress before the kill',
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM saga_instance WHERE version >= 3`,
        );
        return rows[0]!.n >= SAGAS / 3 ? true : undefined;
      },
      60_000,
      20,
    );
    const victim = stack.app('orchestrator');
    await victim.kill();
    const killedAt = Date.now();
    await feeding;
    const ids = [...expected.keys()];
    const unfinishedAtKill = await unfinishedCount(db, ids);
    expect(unfinishedAtKill).toBeGreaterThan(0);

    await expectAllFinished(db, expected);
    const finishedAt = Date.now();
    const duplicates = await expectEffectsExactlyOnce(db, expected);
    await expectContiguousVersions(db, ids);

    // Every poison reply parked (maybe twice, if the victim parked it and died before its offset
    // commit) and on the dead-letter topic with its key, headers, reason and original value.
    const { rows: parkedRows } = await db.query<{ n: number }>(
      `SELECT count(DISTINCT (partition, kafka_offset))::int AS n FROM parked_message WHERE message_key LIKE 'poison-%'`,
    );
    expect(parkedRows[0]!.n).toBe(POISON.length);
    const dead = await deadLetters(POISON.length);
    for (const p of POISON) {
      const copy = dead.find((m) => m.key === `poison-${p.name}`);
      expect({ name: p.name, found: !!copy }).toEqual({ name: p.name, found: true });
      expect(copy!.headers).toMatchObject({
        'x-test': p.name,
        [DEAD_LETTER_HEADERS.reasonCode]: p.reasonCode,
        [DEAD_LETTER_HEADERS.valueEncoding]: p.encoding,
        [DEAD_LETTER_HEADERS.origin]: expect.stringMatching(/sagaflow\.replies\/\d+\/\d+$/),
      });
      expect(copy!.headers[DEAD_LETTER_HEADERS.reason]).toEqual(expect.any(String));
      // The original value: itself when it is JSON, base64 in a JSON string when it is not.
      if (p.encoding === 'json')
        expect(JSON.parse(copy!.value!)).toEqual(JSON.parse(p.value!.toString()));
      else if (p.encoding === 'base64')
        expect(Buffer.from(JSON.parse(copy!.value!) as string, 'base64')).toEqual(p.value);
      else expect(copy!.value).toBe('null');
    }

    // Who did what: the survivor logs its totals as it stops; the victim's share is the rest.
    const survivor = stack.app('orchestrator-2');
    await survivor.stop();
    const survivorTotals = lastTotals(survivor.output);
    const victimLast = lastTotals(victim.output);
    const applied = await repliesApplied(ids);
    const { rows: timerRows } = await db.query<{ n: number }>(
      `SELECT count(DISTINCT (saga_id, instance_version))::int AS n FROM saga_journal
        WHERE saga_id = ANY($1::uuid[]) AND actor = 'timer'`,
      [ids],
    );
    const figures = {
      sagas: ids.length,
      unfinishedAtKill,
      partitionsBeforeKill: members,
      repliesApplied: applied,
      survivor: survivorTotals,
      victimByDifference: survivorTotals ? applied - survivorTotals.applied : null,
      victimLastLoggedTotals: victimLast,
      timerTransitions: timerRows[0]!.n,
      poisonParked: parkedRows[0]!.n,
      deadLetterCopies: dead.length,
      duplicates,
      msFromKillToAllFinished: finishedAt - killedAt,
      msTotal: Date.now() - t0,
    };
    process.stdout.write(`scale-out figures: ${JSON.stringify(figures)}\n`);
    expect(survivorTotals).not.toBeNull();
    // Both did part of the work: the survivor applied some replies, the victim the others.
    expect(survivorTotals!.applied).toBeGreaterThan(0);
    expect(applied - survivorTotals!.applied).toBeGreaterThan(0);
  });
});
