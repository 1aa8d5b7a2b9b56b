import { orderSaga } from '@sagaflow/sample-order';
import { EngineContractError, SagaEvent, SagaInstance, decide } from './index';
import { deepFreeze, scenario } from './testing/scenario';
import { orderInput as input } from './testing/order-input';

/** A fresh running instance halfway through the order saga: credit reserved, inventory awaited. */
function halfway(): SagaInstance {
  return scenario(orderSaga).start(input).reply('reserveCredit', { reservationId: 'cr-1' })
    .instance;
}

/** The order saga run to completion. */
function completedOrder() {
  return scenario(orderSaga)
    .start(input)
    .reply('reserveCredit', { reservationId: 'cr-1' })
    .reply('reserveInventory', { reservationId: 'inv-1' })
    .reply('chargePayment', { chargeId: 'ch-1' })
    .reply('confirmOrder', { confirmedAt: '2025-01-01T00:00:00Z' });
}

describe('decide: the happy path', () => {
  it('sends reserveCredit first, built from the input, with a deterministic id and idempotency key', () => {
    const s = scenario(orderSaga, 'saga-1').start(input, 'order-o-1');

    s.expectStatus('running').expectCommand('reserveCredit', 'forward', 1);
    expect(s.command).toEqual({
      type: 'sendCommand',
      messageId: 'saga-1:reserveCredit:forward:1',
      sagaId: 'saga-1',
      sagaType: 'order',
      sagaVersion: 1,
      step: 'reserveCredit',
      kind: 'forward',
      attempt: 1,
      idempotencyKey: 'saga-1:reserveCredit:forward',
      commandType: 'credit.reserve',
      topic: 'credit.commands',
      payload: { orderId: 'o-1', customerId: 'c-1', amount: 50 },
      compensates: null,
      expectsReply: true,
    });
    expect(s.instance).toEqual({
      id: 'saga-1',
      sagaType: 'order',
      sagaVersion: 1,
      version: 1,
      businessKey: 'order-o-1',
      data: input,
      completed: [],
      status: 'running',
      stage: 0,
      pending: [{ step: 0, attempt: 1, waiting: 'reply' }],
      stageFailure: null,
    });
  });

  it('arms the saga deadline and the first step timeout at start, in that order around the command', () => {
    const s = scenario(orderSaga).start(input);

    expect(s.effects.map((e) => e.type)).toEqual([
      'scheduleTimer',
      'sendCommand',
      'scheduleTimer',
      'emitEvent',
    ]);
    expect(s.scheduled).toEqual([
      {
        type: 'scheduleTimer',
        key: 'saga-1:deadline',
        delayMs: 300_000,
        event: { type: 'deadlineReached' },
      },
      {
        type: 'scheduleTimer',
        key: 'saga-1:reserveCredit:forward:1:timeout',
        delayMs: 30_000,
        event: { type: 'timedOut', step: 'reserveCredit', kind: 'forward', attempt: 1 },
      },
    ]);
  });

  it('runs every step in order, folding replies into the data, and completes', () => {
    const s = scenario(orderSaga).start(input);
    const versions = [s.instance.version];
    const payloads = [s.command.payload];
    const next = (step: string, data: unknown) => {
      s.reply(step, data);
      versions.push(s.instance.version);
      payloads.push(...s.commands.map((c) => c.payload));
    };

    next('reserveCredit', { reservationId: 'cr-1' });
    s.expectCommand('reserveInventory');
    next('reserveInventory', { reservationId: 'inv-1' });
    s.expectCommand('chargePayment');
    next('chargePayment', { chargeId: 'ch-1' });
    s.expectCommand('confirmOrder');
    next('confirmOrder', { confirmedAt: '2025-01-01T00:00:00Z' });

    s.expectStatus('completed').expectCommand('notifyCustomer');
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    expect(payloads).toEqual([
      { orderId: 'o-1', customerId: 'c-1', amount: 50 },
      { orderId: 'o-1', sku: 'sku-1', quantity: 2 },
      { orderId: 'o-1', amount: 50, card: '4111111111111111' },
      { orderId: 'o-1', chargeId: 'ch-1' },
      { orderId: 'o-1', customerId: 'c-1', template: 'order-confirmed' },
    ]);
    expect(s.instance.data).toEqual({
      ...input,
      creditReservationId: 'cr-1',
      inventoryReservationId: 'inv-1',
      chargeId: 'ch-1',
      confirmedAt: '2025-01-01T00:00:00Z',
    });
    expect(s.instance.completed).toEqual([
      { index: 0, log: { reservationId: 'cr-1' } },
      { index: 1, log: { reservationId: 'inv-1' } },
      { index: 2, log: { chargeId: 'ch-1' } },
      { index: 3, log: { confirmedAt: '2025-01-01T00:00:00Z' } },
    ]);
  });

  it('ends with the notification sent without awaiting a reply, and cancels the deadline', () => {
    const s = completedOrder();

    expect(s.command).toMatchObject({
      step: 'notifyCustomer',
      commandType: 'order.notify-customer',
      topic: 'order.commands',
      expectsReply: false,
    });
    s.expectNoTimer().expectCancelled('saga-1:deadline');
    expect(s.cancelled).toEqual(['saga-1:confirmOrder:forward:1:timeout', 'saga-1:deadline']);
    s.expectArmed();
  });

  it('cancels the timeout of every step whose reply arrived, and arms the next one', () => {
    const s = scenario(orderSaga).start(input).reply('reserveCredit', { reservationId: 'cr-1' });

    s.expectCancelled('saga-1:reserveCredit:forward:1:timeout');
    s.expectTimer('saga-1:reserveInventory:forward:1:timeout', 30_000);
    s.expectArmed('saga-1:deadline', 'saga-1:reserveInventory:forward:1:timeout');
    s.reply('reserveInventory', { reservationId: 'inv-1' });
    s.expectTimer('saga-1:chargePayment:forward:1:timeout', 60_000);
  });

  it('drops the active-only fields once completed', () => {
    expect(Object.keys(completedOrder().instance).sort()).toEqual(
      [
        'businessKey',
        'completed',
        'data',
        'id',
        'sagaType',
        'sagaVersion',
        'status',
        'version',
      ].sort(),
    );
  });

  it('journals the start, every command and reply, and the completion', () => {
    const s = completedOrder();

    expect(
      s.journal.map((j) => [j.type, j.step ?? null, j.kind ?? null, j.attempt ?? null]),
    ).toEqual([
      ['saga.started', null, null, null],
      ['command.sent', 'reserveCredit', 'forward', 1],
      ['reply.received', 'reserveCredit', 'forward', 1],
      ['command.sent', 'reserveInventory', 'forward', 1],
      ['reply.received', 'reserveInventory', 'forward', 1],
      ['command.sent', 'chargePayment', 'forward', 1],
      ['reply.received', 'chargePayment', 'forward', 1],
      ['command.sent', 'confirmOrder', 'forward', 1],
      ['reply.received', 'confirmOrder', 'forward', 1],
      ['command.sent', 'notifyCustomer', 'forward', 1],
      ['saga.completed', null, null, null],
    ]);
    expect(s.journal[0]!.detail).toEqual({ input });
    expect(s.journal[1]!.detail).toEqual({
      messageId: 'saga-1:reserveCredit:forward:1',
      commandType: 'credit.reserve',
      topic: 'credit.commands',
      payload: { orderId: 'o-1', customerId: 'c-1', amount: 50 },
    });
    expect(s.journal[2]!.detail).toEqual({
      messageId: 'reply-1',
      outcome: { status: 'success', data: { reservationId: 'cr-1' } },
    });
    expect(s.journal.at(-2)!.detail).toMatchObject({ expectsReply: false });
  });
});

describe('decide: starting a saga', () => {
  it('rejects invalid input with one field error per bad field and creates nothing', () => {
    const bad = { ...input, customerId: '', quantity: 0, card: 'abc' };
    const { orderId: _omitted, ...withoutOrderId } = bad;
    const s = scenario(orderSaga).start(withoutOrderId);

    s.expectRejected('invalid-input');
    const d = s.decision;
    if (d.kind !== 'rejected') throw new Error('unreachable');
    expect(d.message).toContain('"order"');
    expect(d.errors.map((e) => e.path).sort()).toEqual([
      'card',
      'customerId',
      'orderId',
      'quantity',
    ]);
    expect(d.errors.find((e) => e.path === 'card')?.message).toBe('card must be 12 to 19 digits');
    expect(() => s.instance).toThrow('the saga has not started');
    expect(s.effects).toEqual([]);
  });

  it('rejects input that is not an object at the root path', () => {
    const s = scenario(orderSaga).start('not an order');
    s.expectRejected('invalid-input');
    expect(s.decision).toMatchObject({ errors: [{ path: '' }] });
  });

  it('keeps what the input schema outputs as the initial data (unknown keys stripped)', () => {
    const s = scenario(orderSaga).start({ ...input, extra: 'dropped' });
    expect(s.instance.data).toEqual(input);
  });
});

describe('decide: contract errors', () => {
  const reply: SagaEvent = {
    type: 'replyReceived',
    messageId: 'm-1',
    step: 'reserveCredit',
    kind: 'forward',
    attempt: 1,
    outcome: { status: 'success', data: { reservationId: 'cr-1' } },
  };

  it('throws when a reply arrives for an unknown saga (the shell must park it, not decide)', () => {
    expect(() => decide(orderSaga, null, reply)).toThrow(EngineContractError);
    expect(() => decide(orderSaga, null, reply)).toThrow(/needs a stored instance/);
  });

  it.each<SagaEvent>([
    { type: 'timedOut', step: 'reserveCredit', kind: 'forward', attempt: 1 },
    { type: 'retryDue', step: 'reserveCredit', kind: 'forward', attempt: 2 },
    { type: 'deadlineReached' },
  ])('throws when a timer ($type) fires for an unknown saga', (event) => {
    expect(() => decide(orderSaga, null, event)).toThrow(EngineContractError);
  });

  it('throws when "started" is decided for an instance that already exists', () => {
    const started: SagaEvent = { type: 'started', sagaId: 'saga-1', input, businessKey: null };
    expect(() => decide(orderSaga, halfway(), started)).toThrow(EngineContractError);
  });

  it.each([
    ['another version', { sagaVersion: 2 }],
    ['another saga type', { sagaType: 'refund' }],
  ])('throws when the instance was started with %s of the definition', (_label, patch) => {
    const instance = { ...halfway(), ...patch } as SagaInstance;
    expect(() => decide(orderSaga, instance, reply)).toThrow(EngineContractError);
    expect(() => decide(orderSaga, instance, reply)).toThrow(
      /load the definition the instance started with/,
    );
  });

  it('gives the error a stable code and name', () => {
    const error = new EngineContractError('x');
    expect(error).toBeInstanceOf(Error);
    expect([error.code, error.name]).toEqual(['ENGINE_CONTRACT', 'EngineContractError']);
  });
});

describe('decide: versions', () => {
  it('bumps the version by exactly one per applied decision, whatever the event', () => {
    const s = scenario(orderSaga).start(input);
    s.fail('reserveCredit', { retryable: true, type: 'unavailable' });
    s.fireTimer('saga-1:reserveCredit:forward:2:retry');
    s.fireTimer('saga-1:reserveCredit:forward:2:timeout');
    s.fireTimer('saga-1:reserveCredit:forward:3:retry');
    s.reply('reserveCredit', { reservationId: 'cr-1' });
    s.deadline();

    expect(s.instance.version).toBe(7);
  });

  it('leaves the version alone when an event is ignored or rejected', () => {
    const s = scenario(orderSaga).start(input);
    s.reply('reserveInventory', { reservationId: 'x' }).expectIgnored('stale');
    s.reply('reserveCredit', { reservationId: 1 }).expectRejected('invalid-reply');
    expect(s.instance.version).toBe(1);
  });
});

describe('decide: purity', () => {
  const events: Array<[string, SagaEvent]> = [
    [
      'a success reply',
      {
        type: 'replyReceived',
        messageId: 'm',
        step: 'reserveInventory',
        kind: 'forward',
        attempt: 1,
        outcome: { status: 'success', data: { reservationId: 'inv-1' } },
      },
    ],
    [
      'a failure reply',
      {
        type: 'replyReceived',
        messageId: 'm',
        step: 'reserveInventory',
        kind: 'forward',
        attempt: 1,
        outcome: {
          status: 'failure',
          retryable: false,
          type: 'out-of-stock',
          message: 'none left',
        },
      },
    ],
    [
      'a retryable failure reply',
      {
        type: 'replyReceived',
        messageId: 'm',
        step: 'reserveInventory',
        kind: 'forward',
        attempt: 1,
        outcome: { status: 'failure', retryable: true, type: 'unavailable', message: 'down' },
      },
    ],
    ['a timeout', { type: 'timedOut', step: 'reserveInventory', kind: 'forward', attempt: 1 }],
    [
      'a stale retryDue',
      { type: 'retryDue', step: 'reserveInventory', kind: 'forward', attempt: 2 },
    ],
    ['the deadline', { type: 'deadlineReached' }],
    [
      'a stale reply',
      {
        type: 'replyReceived',
        messageId: 'm',
        step: 'reserveCredit',
        kind: 'forward',
        attempt: 1,
        outcome: { status: 'success', data: { reservationId: 'x' } },
      },
    ],
    [
      'an invalid reply',
      {
        type: 'replyReceived',
        messageId: 'm',
        step: 'reserveInventory',
        kind: 'forward',
        attempt: 1,
        outcome: { status: 'success', data: { reservationId: 1 } },
      },
    ],
  ];

  it.each(events)('never mutates the instance or the event (%s)', (_label, event) => {
    const instance = halfway();
    const [instanceBefore, eventBefore] = [structuredClone(instance), structuredClone(event)];

    decide(orderSaga, deepFreeze(instance), deepFreeze(event));

    expect(instance).toEqual(instanceBefore);
    expect(event).toEqual(eventBefore);
  });

  it('never mutates a frozen start input', () => {
    const event = deepFreeze({
      type: 'started' as const,
      sagaId: 's',
      input: structuredClone(input),
      businessKey: null,
    });
    expect(decide(orderSaga, null, event).kind).toBe('applied');
    expect(event.input).toEqual(input);
  });

  it.each(events)(
    'returns equal decisions for equal inputs (%s: no clock, no randomness)',
    (_l, event) => {
      expect(decide(orderSaga, halfway(), event)).toEqual(decide(orderSaga, halfway(), event));
    },
  );
});
