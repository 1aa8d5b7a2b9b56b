import { randomBytes, randomUUID } from 'node:crypto';
import { SagaInstance } from '@sagaflow/engine';
import { ensureTopics } from '@sagaflow/messaging';
import {
  ParkedMessageRepository,
  SagaInstanceRepository,
  withConnection,
} from '@sagaflow/persistence';
import {
  RawStartEvent,
  StartEventConsumer,
  StartEventProcessor,
  StartEventResult,
  startEventSources,
} from '@sagaflow/runtime';
import { ORDER_PLACED_TOPIC, OrderPlaced } from '@sagaflow/sample-order';
import { countRows, OrderStack, orderInput } from '../support/fixtures';
import { eventually } from '../support/infrastructure';

/**
 * Starting sagas from domain events, on real Kafka and PostgreSQL: the whole sample stack runs
 * in this process (OrderStack) plus the start-event consumer, reading `orders.order-placed`.
 */
describe('starting sagas from OrderPlaced events', () => {
  let stack: OrderStack;
  let consumer: StartEventConsumer;
  let topic: string;
  const batches: StartEventResult[] = [];
  const instances = new SagaInstanceRepository();

  beforeAll(async () => {
    stack = await OrderStack.start({ partitions: 2 });
    topic = `${stack.topicPrefix}${ORDER_PLACED_TOPIC}`;
    const admin = stack.kafka.admin();
    await admin.connect();
    // The lifecycle topic too, when this build publishes lifecycle events and the stack's own
    // provisioning does not create it yet (ensureTopics leaves existing topics alone).
    const lifecycle = (stack.config as { lifecycleTopic?: string | null }).lifecycleTopic;
    await ensureTopics(admin, [topic, ...(lifecycle ? [lifecycle] : [])], 2);
    await admin.disconnect();
    consumer = await startConsumer(`${stack.topicPrefix}sagaflow-start-events`);
  });

  afterAll(async () => {
    await consumer?.stop();
    await stack?.stop();
  });

  async function startConsumer(groupId: string): Promise<StartEventConsumer> {
    const started = new StartEventConsumer(
      stack.kafka,
      stack.dataSource,
      stack.registry,
      stack.startSaga,
      {
        groupId,
        topicPrefix: stack.topicPrefix,
        sessionTimeoutMs: 6000,
        onBatch: (r) => batches.push(r),
      },
    );
    await started.start();
    return started;
  }

  function placed(overrides: Partial<OrderPlaced> = {}): OrderPlaced {
    return { eventId: `evt-${randomUUID()}`, ...orderInput(), ...overrides };
  }

  async function publish(values: Array<string | null>, partition = 0): Promise<void> {
    await stack.producer.send({
      topic,
      acks: -1,
      messages: values.map((value) => ({ key: null, value, partition })),
    });
  }

  const json = (event: unknown) => JSON.stringify(event);

  function startedBy(eventId: string): Promise<SagaInstance> {
    return eventually(`a saga started by event ${eventId}`, () =>
      withConnection(stack.dataSource, async (sql) => {
        const found = await instances.findByIdempotencyKey(sql, 'order', `event:${eventId}`);
        return found ?? undefined;
      }),
    );
  }

  const instancesOf = (eventId: string) =>
    countRows(stack.dataSource, 'SELECT 1 FROM saga_instance WHERE idempotency_key = $1', [
      `event:${eventId}`,
    ]);

  /** Waits until the group has committed every offset of the topic: nothing is left behind. */
  async function drained(groupId = `${stack.topicPrefix}sagaflow-start-events`): Promise<void> {
    const admin = stack.kafka.admin();
    await admin.connect();
    try {
      await eventually(`${groupId} to commit to the end of ${topic}`, async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const at = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
        return ends.every((e) => e.high === '0' || at.get(e.partition) === e.high)
          ? true
          : undefined;
      });
    } finally {
      await admin.disconnect();
    }
  }

  it('starts a saga per event with the mapped input, and runs it to completion', async () => {
    const events = [placed(), placed({ quantity: 3 }), placed()];
    await publish(events.map(json), 0);
    await publish([json(placed())], 1);

    for (const event of events) {
      const instance = await startedBy(event.eventId);
      expect(instance.businessKey).toBe(event.orderId);
      const { eventId: _eventId, ...input } = event;
      expect(instance.data).toMatchObject(input);
      const done = await stack.waitFor(instance.id, 'completed');
      expect(done.data).toMatchObject({ chargeId: expect.any(String) });
      const journal = await stack.journal(instance.id);
      expect(journal.find((j) => j.type === 'saga.started')?.actor).toBe(
        `event:${ORDER_PLACED_TOPIC}`,
      );
    }
  });

  it('starts one saga for one event id, published twice in one send and again later', async () => {
    const event = placed();
    await publish([json(event), json(event)], 1);
    const first = await startedBy(event.eventId);
    await publish([json({ ...event, quantity: 9 })], 0); // same id, other partition and body
    await drained();
    expect(await instancesOf(event.eventId)).toBe(1);
    expect((await stack.load(first.id)).data).toMatchObject({ quantity: event.quantity });
  });

  it('counts the same id twice in one batch as a duplicate without a second start', async () => {
    const sources = startEventSources(stack.registry);
    const processor = new StartEventProcessor(
      stack.dataSource,
      stack.startSaga,
      sources,
      stack.topicPrefix,
    );
    const event = placed();
    const raw = (offset: string): RawStartEvent => ({
      topic,
      partition: 0,
      offset,
      key: null,
      headers: {},
      value: Buffer.from(json(event)),
    });
    expect(await processor.process([raw('900'), raw('901')])).toEqual({
      started: 1,
      duplicates: 1,
      parked: 0,
    });
    expect(await processor.process([raw('902')])).toEqual({
      started: 0,
      duplicates: 1,
      parked: 0,
    });
    expect(await instancesOf(event.eventId)).toBe(1);
  });

  it('parks what the author’s functions refuse: an unusable event id, a mapping that throws', async () => {
    const [order] = startEventSources(stack.registry);
    const startOn = order!.startOn;
    const direct = 'direct.';
    const run = (override: Partial<typeof startOn>, event: OrderPlaced) =>
      new StartEventProcessor(
        stack.dataSource,
        stack.startSaga,
        [{ sagaType: 'order', startOn: { ...startOn, ...override } }],
        direct,
      ).process([
        {
          topic: `${direct}${ORDER_PLACED_TOPIC}`,
          partition: 0,
          offset: '0',
          key: null,
          headers: {},
          value: Buffer.from(json(event)),
        },
      ]);
    const event = placed();
    expect(await run({ eventId: () => 'x'.repeat(501) }, event)).toMatchObject({ parked: 1 });
    expect(await run({ eventId: () => 42 }, event)).toMatchObject({ parked: 1 });
    const boom = () => {
      throw new Error('no mapping for this shop');
    };
    expect(await run({ input: boom }, event)).toMatchObject({ parked: 1 });
    expect(await run({ businessKey: boom }, event)).toMatchObject({ parked: 1 });
    expect(await run({ input: () => ({ ...event, orderId: 'a\u0000b' }) }, event)).toMatchObject({
      parked: 1,
    });
    // Refused by PostgreSQL itself (a key too long to index): the event's fault, parked too.
    const hugeKey = randomBytes(12_000).toString('hex');
    expect(await run({ businessKey: () => hugeKey }, event)).toMatchObject({ parked: 1 });
    const parked = await withConnection(stack.dataSource, (sql) =>
      new ParkedMessageRepository().list(sql, 1000),
    );
    expect(
      parked
        .filter((p) => p.topic === `${direct}${ORDER_PLACED_TOPIC}`)
        .map((p) => [p.reasonCode, p.reason]),
    ).toEqual([
      [
        'invalid-event',
        `saga "order": eventId must give a non-empty string of at most 500 characters, got "${'x'.repeat(40)}…" (501 characters)`,
      ],
      [
        'invalid-event',
        'saga "order": eventId must give a non-empty string of at most 500 characters, got number',
      ],
      ['invalid-input', 'saga "order": input threw: no mapping for this shop'],
      ['invalid-input', 'saga "order": businessKey threw: no mapping for this shop'],
      [
        'invalid-input',
        'saga "order": the input or business key contains a NUL character (\\u0000), which PostgreSQL cannot store',
      ],
      ['invalid-input', expect.stringMatching(/^saga "order": index row (size|requires)/)],
    ]);
    expect(await instancesOf(event.eventId)).toBe(0);
  });

  it('parks bad events with a reason code and goes on with the partition', async () => {
    const after = placed();
    const badInput = placed({ card: 'not-a-card' });
    await publish([
      '{"eventId": "broken',
      null,
      json({ eventId: 'evt-no-order', quantity: 'two' }),
      json(placed({ eventId: '' })),
      json(badInput),
      json(after),
    ]);
    const started = await startedBy(after.eventId);
    expect(started.data).toMatchObject({ orderId: after.orderId });
    await drained();

    const parked = await withConnection(stack.dataSource, (sql) =>
      new ParkedMessageRepository().list(sql, 1000),
    );
    const ours = parked.filter((p) => p.topic === topic);
    expect(ours.map((p) => [p.reasonCode, p.body])).toEqual([
      ['malformed-event', '{"eventId": "broken'],
      ['malformed-event', null],
      ['invalid-event', json({ eventId: 'evt-no-order', quantity: 'two' })],
      ['invalid-event', expect.stringContaining('"eventId":""')],
      ['invalid-input', json(badInput)],
    ]);
    expect(ours[0]!.reason).toMatch(/not JSON/);
    expect(ours[2]!.reason).toMatch(/^saga "order": the event does not match: orderId: /);
    expect(ours[3]!.reason).toMatch(/the event does not match: eventId: /);
    expect(ours[4]!.reason).toMatch(/card must be 12 to 19 digits/);
    expect(new Set(ours.map((p) => p.partition))).toEqual(new Set([0]));
    expect(await instancesOf(badInput.eventId)).toBe(0);
  });

  it('starts nothing new when the whole topic is delivered again (a new group from the start)', async () => {
    const before = await countRows(stack.dataSource, 'SELECT 1 FROM saga_instance');
    const replayGroup = `${stack.topicPrefix}replay-${randomUUID().slice(0, 8)}`;
    const replay = await startConsumer(replayGroup);
    try {
      await drained(replayGroup);
    } finally {
      await replay.stop();
    }
    expect(await countRows(stack.dataSource, 'SELECT 1 FROM saga_instance')).toBe(before);
    expect(replay.totals.started).toBe(0);
    expect(replay.totals.duplicates).toBe(8); // every valid event published above
  });
});
