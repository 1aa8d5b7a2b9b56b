import { randomUUID } from 'node:crypto';
import { SagaInstance } from '@sagaflow/engine';
import { CommandEnvelope, HEADERS, PROTOCOL, ReplyEnvelope } from '@sagaflow/messaging';
import { defineSaga } from '@sagaflow/saga-dsl';
import {
  ChargePayment,
  OrderInput,
  ReleaseCredit,
  ReleaseInventory,
  ReserveCredit,
  ReserveInventory,
} from '@sagaflow/sample-order';
import { DECLINED_CARD } from '../../apps/sample-participants/src/payment.participant';
import { CREDIT_SCHEMA } from '../../apps/sample-participants/src/credit.participant';
import { INVENTORY_SCHEMA } from '../../apps/sample-participants/src/inventory.participant';
import {
  countRows,
  LedgerEffect,
  OrderStack,
  stringHeaders,
  TappedReply,
} from '../support/fixtures';
import { eventually } from '../support/infrastructure';

/** The steps of the sample order saga that await a reply; `notifyCustomer` follows them. */
const STEPS = ['reserveCredit', 'reserveInventory', 'chargePayment', 'confirmOrder'];
const COMPLETED_EFFECTS = [
  'credit:forward:credit.reserve',
  'inventory:forward:inventory.reserve',
  'payment:forward:payment.charge',
  'order:forward:order.confirm',
  'order:forward:order.notify-customer',
];

/**
 * The sample order saga's first two steps, with a reserveInventory that gives up after
 * 500 ms without a reply and compensates (the sample waits 30 s and retries).
 */
const impatientOrder = defineSaga({ name: 'order-impatient', version: 1, input: OrderInput })
  .step('reserveCredit', {
    command: ReserveCredit,
    payload: (o) => ({ orderId: o.orderId, customerId: o.customerId, amount: o.amount }),
    compensate: {
      command: ReleaseCredit,
      payload: (o, log) => ({ orderId: o.orderId, reservationId: log?.reservationId }),
    },
  })
  .step('reserveInventory', {
    command: ReserveInventory,
    payload: (o) => ({ orderId: o.orderId, sku: o.sku, quantity: o.quantity }),
    compensate: {
      command: ReleaseInventory,
      payload: (o, log) => ({ orderId: o.orderId, reservationId: log?.reservationId }),
    },
    timeout: '500ms',
    onTimeout: 'compensate',
  })
  .pivot('chargePayment', {
    command: ChargePayment,
    payload: (o) => ({ orderId: o.orderId, amount: o.amount, card: o.card }),
  })
  .build();

/** The ledger reduced to what the assertions compare: who did what, in the order it happened. */
const effects = (ledger: readonly LedgerEffect[]) =>
  ledger.map((e) => `${e.participant}:${e.kind}:${e.commandType}`);

/**
 * End to end over a real Kafka broker and PostgreSQL, all in this process: StartSaga writes the
 * instance and the first command, the OutboxRelay publishes it, the sample participants (three
 * ParticipantServices and the order service as a Nest microservice) apply it once and reply, and
 * the ReplyConsumer applies the replies. One stack serves every test; the tests run in order.
 */
describe('Kafka round trip (outbox → participant → reply → new state)', () => {
  let stack: OrderStack;

  beforeAll(async () => {
    stack = await OrderStack.start({ partitions: 3, definitions: [impatientOrder] });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Runs `work` with the outbox relay paused, so the test controls when commands go out. */
  async function withRelayPaused<T>(work: () => Promise<T>): Promise<T> {
    await stack.relay.stop();
    try {
      return await work();
    } finally {
      stack.relay.start();
    }
  }

  /** Waits until the reply consumer's totals reach at least `target` for one counter, then returns them. */
  async function totalsReach(counter: keyof OrderStack['replies']['totals'], target: number) {
    return eventually(`reply consumer ${counter} to reach ${target}`, async () =>
      stack.replies.totals[counter] >= target ? { ...stack.replies.totals } : undefined,
    );
  }

  /** Waits until the consumer group has committed every message of the topic (all processed). */
  async function consumedAll(groupId: string, topic: string): Promise<void> {
    const admin = stack.kafka.admin();
    await admin.connect();
    try {
      await eventually(`${groupId} to consume all of ${topic}`, async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const done = ends.every((end) => {
          const at = committed!.partitions.find((p) => p.partition === end.partition)?.offset;
          return end.high === '0' || at === end.high;
        });
        return done ? true : undefined;
      });
    } finally {
      await admin.disconnect();
    }
  }

  /** Waits until the ledger of the saga holds `count` effects, then returns it. */
  function ledgerOf(sagaId: string, count: number): Promise<LedgerEffect[]> {
    return eventually(`${count} effects of saga ${sagaId}`, async () => {
      const ledger = await stack.ledger(sagaId);
      return ledger.length >= count ? ledger : undefined;
    });
  }

  function realReply(sagaId: string, step: string): Promise<TappedReply> {
    return eventually(`the ${step} reply of ${sagaId} on the reply topic`, async () =>
      stack.tappedReplies(sagaId).find((t) => t.reply!.step === step),
    );
  }

  /** A reply envelope as a participant would publish it (headers from the body). */
  function replyMessage(reply: ReplyEnvelope, key: string = reply.sagaId) {
    return {
      key,
      value: JSON.stringify(reply),
      headers: {
        [HEADERS.protocol]: PROTOCOL,
        [HEADERS.messageId]: reply.messageId,
        [HEADERS.sagaId]: reply.sagaId,
        [HEADERS.step]: reply.step,
      },
    };
  }

  it('completes a saga: every step is sent and answered, the outbox drains, each participant applies its effect once', async () => {
    const started = await stack.start({ amount: 250, quantity: 3 });
    const done = await stack.waitFor(started.id, 'completed');

    // One version per applied reply; the notification at the end is sent, not awaited.
    expect(done.version).toBe(1 + STEPS.length);
    expect(done.data).toMatchObject({
      ...(started.data as object),
      creditReservationId: expect.stringMatching(/^cr-/),
      inventoryReservationId: expect.stringMatching(/^inv-/),
      chargeId: expect.stringMatching(/^ch-/),
      confirmedAt: expect.any(String),
    });

    const journal = await stack.journal(started.id);
    expect(journal.map((e) => [e.type, e.step ?? null, e.kind ?? null, e.actor])).toEqual([
      ['saga.started', null, null, 'test'],
      ['command.sent', 'reserveCredit', 'forward', 'test'],
      ...STEPS.flatMap((step, i) => [
        ['reply.received', step, 'forward', 'reply'],
        ...(i + 1 < STEPS.length ? [['command.sent', STEPS[i + 1], 'forward', 'reply']] : []),
      ]),
      ['command.sent', 'notifyCustomer', 'forward', 'reply'],
      ['saga.completed', null, null, 'reply'],
    ]);
    expect(journal.find((e) => e.step === 'notifyCustomer')!.detail).toMatchObject({
      commandType: 'order.notify-customer',
      expectsReply: false,
    });
    // Each applied reply is journaled with the version it produced.
    expect(
      journal.filter((e) => e.type === 'reply.received').map((e) => e.instanceVersion),
    ).toEqual([2, 3, 4, 5]);

    await eventually('the outbox to drain', async () =>
      (await stack.outboxBacklog()) === 0 ? true : undefined,
    );
    expect(effects(await ledgerOf(started.id, COMPLETED_EFFECTS.length))).toEqual(
      COMPLETED_EFFECTS,
    );
    // Nothing is left armed: the step timeouts and the deadline went with the saga.
    expect(
      await countRows(stack.dataSource, 'SELECT 1 FROM saga_timer WHERE saga_id = $1', [
        started.id,
      ]),
    ).toBe(0);
  });

  it('compensates the reservations in reverse order when the pivot (payment) is declined', async () => {
    const started = await stack.start({ card: DECLINED_CARD });
    const done = await stack.waitFor(started.id, 'compensated');

    expect(done).toMatchObject({
      status: 'compensated',
      cause: { step: 'chargePayment', kind: 'forward', type: 'card-declined' },
    });
    const ledger = await stack.ledger(started.id);
    expect(effects(ledger)).toEqual([
      'credit:forward:credit.reserve',
      'inventory:forward:inventory.reserve',
      'inventory:compensate:inventory.release',
      'credit:compensate:credit.release',
    ]);
    // The compensations undo exactly the reservations the forward steps made.
    const data = done.data as {
      orderId: string;
      creditReservationId: string;
      inventoryReservationId: string;
    };
    expect(ledger[2]!.detail).toEqual({
      reservationId: data.inventoryReservationId,
      orderId: data.orderId,
      released: 1,
    });
    expect(ledger[3]!.detail).toEqual({
      reservationId: data.creditReservationId,
      orderId: data.orderId,
      released: 1,
    });
    const { rows } = await stack.participantPool.query(
      `SELECT status FROM ${CREDIT_SCHEMA}.reservation WHERE id = $1`,
      [data.creditReservationId],
    );
    expect(rows).toEqual([{ status: 'released' }]);

    const compensations = (await stack.journal(started.id))
      .filter((e) => e.type === 'command.sent' && e.kind === 'compensate')
      .map((e) => e.step);
    expect(compensations).toEqual(['reserveInventory', 'reserveCredit']);
  });

  it('compensates only the credit reservation when inventory is told to fail (FAIL_COMMANDS)', async () => {
    const previous = process.env.FAIL_COMMANDS;
    process.env.FAIL_COMMANDS = 'inventory.reserve';
    let done: SagaInstance;
    try {
      const started = await stack.start();
      done = await stack.waitFor(started.id, 'compensated');
    } finally {
      if (previous === undefined) delete process.env.FAIL_COMMANDS;
      else process.env.FAIL_COMMANDS = previous;
    }

    expect(done).toMatchObject({
      cause: { step: 'reserveInventory', kind: 'forward', type: 'simulated-failure' },
    });
    expect(effects(await stack.ledger(done.id))).toEqual([
      'credit:forward:credit.reserve',
      'credit:compensate:credit.release',
    ]);
  });

  it('drops a redelivered reply (same message id) in the inbox and ignores a stale or late one without changing the instance', async () => {
    const before = { ...stack.replies.totals };
    const { saga, atInventory } = await withRelayPaused(async () => {
      const saga = await stack.start();
      await stack.relay.relayOnce(); // only reserveCredit goes out: the saga then waits for reserveInventory
      const atInventory = await stack.waitFor(saga.id, 'running', (i) => i.version === 2);
      expect(atInventory).toMatchObject({
        stage: 1,
        pending: [{ step: 1, attempt: 1, waiting: 'reply' }],
      });
      const original = await realReply(saga.id, 'reserveCredit');
      const journalBefore = await stack.journal(saga.id);

      // 1. The very same message again: the inbox drops it before the engine sees it.
      await stack.publishReplies([
        { key: original.key, value: original.value, headers: original.headers },
      ]);
      await totalsReach('duplicates', before.duplicates + 1);
      expect(await stack.journal(saga.id)).toEqual(journalBefore);

      // 2. The same step and attempt under a new message id: valid, but the saga has moved on.
      const staleId = `stale-${randomUUID()}`;
      await stack.publishReplies([
        {
          key: original.key,
          value: JSON.stringify({ ...original.reply!, messageId: staleId }),
          headers: { ...stringHeaders(original.headers), [HEADERS.messageId]: staleId },
        },
      ]);
      await totalsReach('ignored', before.ignored + 1);
      const journal = await stack.journal(saga.id);
      expect(journal.slice(0, journalBefore.length)).toEqual(journalBefore);
      expect(journal.slice(journalBefore.length)).toEqual([
        expect.objectContaining({
          type: 'reply.ignored',
          step: 'reserveCredit',
          kind: 'forward',
          attempt: 1,
          actor: 'reply',
          instanceVersion: 2,
          detail: expect.objectContaining({ messageId: staleId, reason: 'stale' }),
        }),
      ]);
      expect(await stack.load(saga.id)).toEqual(atInventory);
      return { saga, atInventory };
    });

    const done = await stack.waitFor(saga.id, 'completed');
    expect(done.version).toBe(atInventory.version + 3);

    // 3. After the end, a new copy is late: counted and journaled, nothing else.
    const original = await realReply(saga.id, 'confirmOrder');
    const lateId = `late-${randomUUID()}`;
    await stack.publishReplies([replyMessage({ ...original.reply!, messageId: lateId })]);
    const totals = await totalsReach('ignored', before.ignored + 2);
    expect(await stack.load(saga.id)).toEqual(done);
    expect((await stack.journal(saga.id)).at(-1)).toMatchObject({
      type: 'reply.ignored',
      detail: { messageId: lateId, reason: 'late' },
    });
    expect(totals).toMatchObject({
      duplicates: before.duplicates + 1,
      ignored: before.ignored + 2,
      parked: before.parked,
    });
  });

  it('parks unknown-saga, malformed, invalid and forged replies with a reason, and keeps consuming the partition', async () => {
    const parkedBefore = await lastParkedId();
    const before = { ...stack.replies.totals };
    const saga = await withRelayPaused(async () => {
      // The saga waits for reserveCredit attempt 1 and its command is not out yet. Every bad
      // message is keyed by its id: same partition, ahead of the saga's real replies.
      const saga = await stack.start();
      const valid: ReplyEnvelope = {
        protocol: PROTOCOL,
        messageId: `bad-${randomUUID()}`,
        inReplyTo: `${saga.id}:reserveCredit:forward:1`,
        sagaId: saga.id,
        step: 'reserveCredit',
        kind: 'forward',
        attempt: 1,
        idempotencyKey: `${saga.id}:reserveCredit:forward`,
        outcome: 'success',
        data: { reservationId: 'cr-x' },
      };
      const unknownSaga = randomUUID();
      await stack.publishReplies([
        replyMessage(
          { ...valid, messageId: `unknown-${randomUUID()}`, sagaId: unknownSaga },
          saga.id,
        ),
        { key: saga.id, value: 'this is not JSON {' },
        {
          key: saga.id,
          value: JSON.stringify({
            protocol: PROTOCOL,
            messageId: 'no-saga-id',
            outcome: 'success',
          }),
        },
        { key: saga.id, value: null },
        replyMessage({ ...valid, data: { reservationId: 42 } }),
        // Forged: answers no command the orchestrator sent. Never applied, never just ignored.
        replyMessage({ ...valid, messageId: `forged-${randomUUID()}`, inReplyTo: 'cmd-42' }),
        replyMessage({
          ...valid,
          messageId: `unsent-${randomUUID()}`,
          attempt: 999,
          inReplyTo: `${saga.id}:reserveCredit:forward:999`,
        }),
      ]);
      const parked = await eventually('seven parked replies', async () => {
        const rows = await parkedSince(parkedBefore);
        return rows.length >= 7 ? rows : undefined;
      });
      expect(parked).toHaveLength(7);
      expect(parked).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            reason_code: 'unknown-saga',
            saga_id: null,
            body: expect.stringContaining(unknownSaga),
            reason: expect.stringContaining(unknownSaga),
          }),
          expect.objectContaining({
            reason_code: 'malformed',
            saga_id: null,
            body: 'this is not JSON {',
            reason: 'reply body is not JSON',
          }),
          expect.objectContaining({
            reason_code: 'malformed',
            saga_id: null,
            body: expect.stringContaining('no-saga-id'),
            reason: expect.stringMatching(/reply envelope is invalid: .*sagaId/),
          }),
          expect.objectContaining({
            reason_code: 'malformed',
            saga_id: null,
            body: null,
            reason: 'reply has no body',
          }),
          expect.objectContaining({
            reason_code: 'invalid-reply',
            saga_id: saga.id,
            body: expect.stringContaining('"reservationId":42'),
            reason: expect.stringContaining('reserveCredit'),
          }),
          expect.objectContaining({
            reason_code: 'unmatched-reply',
            saga_id: saga.id,
            body: expect.stringContaining('cmd-42'),
            reason: expect.stringContaining("echo the command's messageId"),
          }),
          expect.objectContaining({
            reason_code: 'unmatched-reply',
            saga_id: saga.id,
            reason: expect.stringContaining('attempt 999 was never sent'),
          }),
        ]),
      );
      expect(parked.every((p) => p.topic === stack.replyTopic && p.message_key === saga.id)).toBe(
        true,
      );
      await totalsReach('parked', before.parked + 7);
      // Parking changed nothing: the saga still waits for its first reply.
      expect(await stack.load(saga.id)).toEqual(saga);
      return saga;
    });

    // The real replies come after the parked ones on the same partition: it is not blocked.
    await stack.waitFor(saga.id, 'completed');
    const later = await stack.start();
    await stack.waitFor(later.id, 'completed');
    expect(stack.replies.totals.parked).toBe(before.parked + 7);
  });

  it('applies a command published twice only once, and the saga still completes', async () => {
    const before = { ...stack.replies.totals };
    const saga = await withRelayPaused(async () => {
      const saga = await stack.start();
      // A copy of the outbox row goes out first; the relay then publishes the original.
      const [row] = await stack.dataSource.query(
        `SELECT topic, message_key, headers, body FROM outbox_message WHERE message_key = $1`,
        [saga.id],
      );
      expect(row.body).toMatchObject({ step: 'reserveCredit', kind: 'forward' });
      await stack.producer.send({
        topic: row.topic,
        acks: -1,
        messages: [{ key: row.message_key, value: JSON.stringify(row.body), headers: row.headers }],
      });
      return saga;
    });

    await stack.waitFor(saga.id, 'completed');
    // The participant replayed its stored reply (same reply id) for the copy; the inbox dropped it.
    await totalsReach('duplicates', before.duplicates + 1);
    expect(effects(await ledgerOf(saga.id, COMPLETED_EFFECTS.length))).toEqual(COMPLETED_EFFECTS);
    const replies = await eventually('both reserveCredit replies on the tap', async () => {
      const found = stack.tappedReplies(saga.id).filter((t) => t.reply!.step === 'reserveCredit');
      return found.length >= 2 ? found : undefined;
    });
    expect(replies).toHaveLength(2);
    expect(replies[1]!.value!.equals(replies[0]!.value!)).toBe(true);
    expect(
      await countRows(
        stack.dataSource,
        `SELECT 1 FROM saga_journal WHERE saga_id = $1 AND type = 'reply.received' AND step = 'reserveCredit'`,
        [saga.id],
      ),
    ).toBe(1);
  });

  it('sends the notification at the end without awaiting a reply: the participant applies it once (even published twice) and never answers it', async () => {
    const ignoredBefore = stack.replies.totals.ignored;
    const { saga, row } = await withRelayPaused(async () => {
      const saga = await stack.start();
      // Relay by hand until the notification is in the outbox; the saga completed with it.
      const row = await eventually('the notifyCustomer command in the outbox', async () => {
        const [found] = await stack.dataSource.query(
          `SELECT topic, message_key, headers, body FROM outbox_message
            WHERE message_key = $1 AND body->>'step' = 'notifyCustomer'`,
          [saga.id],
        );
        if (!found) await stack.relay.relayOnce();
        return found as
          | { topic: string; message_key: string; headers: Record<string, string>; body: unknown }
          | undefined;
      });
      expect(await stack.load(saga.id)).toMatchObject({ status: 'completed', version: 5 });
      expect(row.topic).toBe(`${stack.topicPrefix}order.commands`);
      expect(row.body).toMatchObject({
        messageId: `${saga.id}:notifyCustomer:forward:1`,
        kind: 'forward',
        attempt: 1,
        commandType: 'order.notify-customer',
        expectsReply: false,
        compensates: null,
        payload: { orderId: expect.any(String), template: 'order-confirmed' },
      } satisfies Partial<CommandEnvelope>);
      // A copy goes out first; the relay then publishes the original.
      await stack.producer.send({
        topic: row.topic,
        acks: -1,
        messages: [{ key: row.message_key, value: JSON.stringify(row.body), headers: row.headers }],
      });
      return { saga, row };
    });

    const ledger = await ledgerOf(saga.id, COMPLETED_EFFECTS.length);
    // Both copies consumed by the order service, and whatever it replied read by the tap.
    await consumedAll(`${stack.topicPrefix}sample-order`, row.topic);
    await consumedAll(`${stack.topicPrefix}test-tap`, stack.replyTopic);

    expect(effects(await stack.ledger(saga.id))).toEqual(COMPLETED_EFFECTS);
    expect(ledger.at(-1)!.detail).toEqual({ email: 'order-confirmed' });
    expect(stack.tappedReplies(saga.id).map((t) => t.reply!.step)).toEqual(STEPS);
    expect(stack.replies.totals.ignored).toBe(ignoredBefore);
    expect((await stack.journal(saga.id)).filter((e) => e.type === 'reply.ignored')).toEqual([]);
  });

  it('compensates a reservation whose reply came too late: the release has no log, the participant undoes by its own record (forwardReply)', async () => {
    const slowSku = `SLOW-${randomUUID().slice(0, 8)}`;
    stack.beforeHandle = async (command, payload) => {
      if (
        command.commandType === 'inventory.reserve' &&
        (payload as { sku: string }).sku === slowSku
      )
        await new Promise((r) => setTimeout(r, 2000));
    };
    let done: SagaInstance;
    try {
      const saga = await stack.start({ sku: slowSku }, 'order-impatient');
      done = await stack.waitFor(saga.id, 'compensated');
    } finally {
      stack.beforeHandle = null;
    }

    expect(done).toMatchObject({
      cause: { step: 'reserveInventory', kind: 'forward', type: 'timeout' },
      completed: [
        { index: 0, log: { reservationId: expect.stringMatching(/^cr-/) } },
        { index: 1, unknown: true },
      ],
    });
    const ledger = await stack.ledger(done.id);
    expect(effects(ledger)).toEqual([
      'credit:forward:credit.reserve',
      'inventory:forward:inventory.reserve',
      'inventory:compensate:inventory.release',
      'credit:compensate:credit.release',
    ]);
    // The release went out with the order id only; the participant found the reservation it
    // had recorded for the forward and released exactly that one.
    const journal = await stack.journal(done.id);
    const release = journal.find(
      (e) => e.type === 'command.sent' && e.step === 'reserveInventory' && e.kind === 'compensate',
    );
    const { orderId } = done.data as OrderInput;
    expect(release!.detail).toMatchObject({ payload: { orderId } });
    expect(release!.detail!.payload).not.toHaveProperty('reservationId');
    expect(ledger[2]!.detail).toEqual({
      reservationId: ledger[1]!.detail.reservationId,
      orderId,
      released: 1,
    });
    expect(journal.map((e) => `${e.actor} ${e.type} ${e.step ?? ''}`)).toContain(
      'timer step.timedOut reserveInventory',
    );

    // Nothing stays reserved.
    for (const schema of [INVENTORY_SCHEMA, CREDIT_SCHEMA]) {
      const { rows } = await stack.participantPool.query(
        `SELECT status FROM ${schema}.reservation WHERE order_id = $1`,
        [orderId],
      );
      expect({ schema, rows }).toEqual({ schema, rows: [{ status: 'released' }] });
    }
    // The late reply to the reservation was ignored, not applied.
    const late = await eventually('the late reserveInventory reply to be ignored', async () =>
      (await stack.journal(done.id)).find(
        (e) => e.type === 'reply.ignored' && e.step === 'reserveInventory',
      ),
    );
    expect(late).toMatchObject({ kind: 'forward', attempt: 1 });
    expect(['stale', 'late']).toContain(late.detail!.reason);
  });

  // PostgreSQL text and jsonb refuse U+0000: such a reply must be parked (NUL replaced), never
  // fail its batch, which would block the partition. Called on the processor directly.
  it('parks a reply whose body contains a NUL byte instead of failing the batch', async () => {
    const result = await stack.processor.process([
      {
        topic: stack.replyTopic,
        partition: 0,
        offset: '999999',
        key: null,
        headers: {},
        value: Buffer.from('bad\u0000body'),
      },
    ]);
    expect(result).toEqual({ applied: 0, duplicates: 0, ignored: 0, parked: 1 });

    const wellFormed = JSON.stringify({
      protocol: PROTOCOL,
      messageId: 'nul-in-message',
      inReplyTo: 'x',
      sagaId: '5b1f2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      step: 'reserveCredit',
      kind: 'forward',
      attempt: 1,
      idempotencyKey: 'x',
      outcome: 'failure',
      failure: { retryable: false, type: 'x', message: 'driver said \u0000 here' },
    });
    const before = await lastParkedId();
    const again = await stack.processor.process([
      {
        topic: stack.replyTopic,
        partition: 0,
        offset: '1000000',
        key: null,
        headers: {},
        value: Buffer.from(wellFormed),
      },
    ]);
    expect(again).toEqual({ applied: 0, duplicates: 0, ignored: 0, parked: 1 });
    expect(await parkedSince(before)).toEqual([
      expect.objectContaining({ reason_code: 'malformed', reason: expect.stringContaining('NUL') }),
    ]);
  });

  async function lastParkedId(): Promise<number> {
    const [row] = await stack.dataSource.query(
      `SELECT coalesce(max(id), 0) AS id FROM parked_message`,
    );
    return Number(row.id);
  }

  function parkedSince(id: number): Promise<
    Array<{
      reason_code: string;
      saga_id: string | null;
      body: string | null;
      reason: string;
      topic: string;
      message_key: string;
    }>
  > {
    return stack.dataSource.query(
      `SELECT reason_code, saga_id, body, reason, topic, message_key FROM parked_message WHERE id > $1 ORDER BY id`,
      [id],
    );
  }
});
