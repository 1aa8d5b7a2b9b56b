import { backoffDelay } from '@sagaflow/compensation';
import { defineCommand, defineSaga } from '@sagaflow/saga-dsl';
import { orderSaga } from '@sagaflow/sample-order';
import { z } from 'zod';
import { scenario } from './testing/scenario';
import { orderInput as input } from './testing/order-input';

/** The order saga with the steps before `step` done (reservation ids cr-1 and inv-1). */
function orderUpTo(step: 'reserveCredit' | 'reserveInventory' | 'chargePayment') {
  const s = scenario(orderSaga).start(input);
  if (step === 'reserveCredit') return s;
  s.reply('reserveCredit', { reservationId: 'cr-1' });
  if (step === 'reserveInventory') return s;
  return s.reply('reserveInventory', { reservationId: 'inv-1' });
}

describe('decide: a forward failure before or at the pivot', () => {
  it('compensates immediately, with no command, when the first step fails for good', () => {
    const s = orderUpTo('reserveCredit').fail('reserveCredit', {
      type: 'insufficient-credit',
      message: 'limit reached',
    });

    s.expectStatus('compensated').expectNoCommand().expectNoTimer();
    expect(s.instance).toMatchObject({
      version: 2,
      completed: [],
      cause: {
        step: 'reserveCredit',
        kind: 'forward',
        type: 'insufficient-credit',
        message: 'limit reached',
      },
    });
    expect(s.journal.slice(-4).map((j) => j.type)).toEqual([
      'reply.received',
      'step.failed',
      'saga.compensating',
      'saga.compensated',
    ]);
    expect(s.cancelled).toEqual(['saga-1:reserveCredit:forward:1:timeout', 'saga-1:deadline']);
    s.expectArmed();
  });

  it.each([
    [
      'reserveInventory',
      [['reserveCredit', 'credit.release', { orderId: 'o-1', reservationId: 'cr-1' }]],
    ],
    [
      'chargePayment',
      [
        ['reserveInventory', 'inventory.release', { orderId: 'o-1', reservationId: 'inv-1' }],
        ['reserveCredit', 'credit.release', { orderId: 'o-1', reservationId: 'cr-1' }],
      ],
    ],
  ] as const)('undoes the completed steps in reverse order when %s fails', (failing, undo) => {
    const s = orderUpTo(failing).fail(failing, { type: 'declined', message: 'no' });
    const cause = { step: failing, kind: 'forward', type: 'declined', message: 'no' };

    for (const [step, commandType, payload] of undo) {
      s.expectStatus('compensating').expectCommand(step, 'compensate', 1);
      expect(s.command).toMatchObject({
        commandType,
        payload,
        messageId: `saga-1:${step}:compensate:1`,
        idempotencyKey: `saga-1:${step}:compensate`,
        compensates: `saga-1:${step}:forward`,
        expectsReply: true,
      });
      expect(s.instance).toMatchObject({ cause });
      s.reply(step);
    }

    s.expectStatus('compensated').expectNoCommand().expectCancelled('saga-1:deadline');
    expect(s.instance).toMatchObject({ cause });
    expect(s.sent.filter((c) => c.kind === 'compensate').map((c) => c.step)).toEqual(
      undo.map(([step]) => step),
    );
  });

  it('journals the plan when it turns around', () => {
    const s = orderUpTo('chargePayment').fail('chargePayment', { type: 'declined' });
    const turn = s.journal.find((j) => j.type === 'saga.compensating');
    expect(turn).toMatchObject({
      step: 'chargePayment',
      detail: { plan: ['reserveInventory', 'reserveCredit'] },
    });
  });

  it('keeps the compensating state free of forward-only fields', () => {
    const s = orderUpTo('chargePayment').fail('chargePayment', { type: 'declined' });
    expect(s.instance).toEqual({
      id: 'saga-1',
      sagaType: 'order',
      sagaVersion: 1,
      version: 4,
      businessKey: null,
      data: { ...input, creditReservationId: 'cr-1', inventoryReservationId: 'inv-1' },
      completed: [
        { index: 0, log: { reservationId: 'cr-1' } },
        { index: 1, log: { reservationId: 'inv-1' } },
      ],
      status: 'compensating',
      currentStep: 1,
      attempt: 1,
      waiting: 'reply',
      remaining: [0],
      cause: {
        step: 'chargePayment',
        kind: 'forward',
        type: 'declined',
        message: 'chargePayment failed',
      },
    });
  });

  it('retries a retryable failure before the pivot (3 attempts by default), then compensates', () => {
    const s = orderUpTo('reserveInventory').fail('reserveInventory', { retryable: true });

    s.expectStatus('running').expectNoCommand();
    s.expectTimer('saga-1:reserveInventory:forward:2:retry');
    s.fireTimer('saga-1:reserveInventory:forward:2:retry').expectCommand(
      'reserveInventory',
      'forward',
      2,
    );
    s.fail('reserveInventory', { retryable: true });
    s.fireTimer('saga-1:reserveInventory:forward:3:retry').expectCommand(
      'reserveInventory',
      'forward',
      3,
    );
    s.fail('reserveInventory', { retryable: true, type: 'unavailable' });

    s.expectStatus('compensating').expectCommand('reserveCredit', 'compensate');
    // It replied each time, so it is known not to have taken effect: nothing of it is undone.
    expect(s.instance.completed.map((c) => c.index)).toEqual([0]);
    expect(s.instance).toMatchObject({ cause: { step: 'reserveInventory', type: 'unavailable' } });
  });

  it('compensates at once on a non-retryable failure, without a retry', () => {
    orderUpTo('reserveInventory')
      .fail('reserveInventory', { retryable: false, type: 'out-of-stock' })
      .expectStatus('compensating')
      .expectCommand('reserveCredit', 'compensate')
      .expectNoTimer();
  });

  it('rejects a compensation reply that does not match its reply schema', () => {
    const s = orderUpTo('reserveInventory').fail('reserveInventory');
    const version = s.instance.version;

    s.reply('reserveCredit', { unexpected: true }).expectRejected('invalid-reply');
    expect(s.decision).toMatchObject({ errors: [{ path: '' }] });
    expect(s.instance.version).toBe(version);
  });

  it('ignores a forward reply while compensating (stale) and a reply once compensated (late)', () => {
    const s = orderUpTo('reserveInventory').fail('reserveInventory');
    s.reply(
      'reserveInventory',
      { reservationId: 'inv-1' },
      { kind: 'forward', attempt: 1 },
    ).expectIgnored('stale');
    s.reply('reserveCredit').expectStatus('compensated');
    s.reply('reserveCredit').expectIgnored('late');
  });

  it('ignores the deadline while compensating (late)', () => {
    orderUpTo('reserveInventory').fail('reserveInventory').deadline().expectIgnored('late');
  });
});

describe('decide: a failing compensation', () => {
  const compensatingCredit = () =>
    orderUpTo('reserveInventory').fail('reserveInventory', { type: 'out-of-stock' });
  const undoPolicy = orderSaga.steps[0]!.compiled.compensationRetry;

  it('retries a retryable failure after a backoff, with the same idempotency key, 5 attempts, then fails', () => {
    const s = compensatingCredit();
    for (const attempt of [2, 3, 4, 5]) {
      s.fail('reserveCredit', { retryable: true, type: 'unavailable' });
      s.expectStatus('compensating').expectNoCommand();
      const delay = backoffDelay(
        undoPolicy,
        attempt - 1,
        `saga-1:reserveCredit:compensate:${attempt - 1}`,
      );
      s.expectTimer(`saga-1:reserveCredit:compensate:${attempt}:retry`, delay);
      expect(s.instance).toMatchObject({ attempt, waiting: 'retry' });
      s.fireTimer(`saga-1:reserveCredit:compensate:${attempt}:retry`);
      s.expectCommand('reserveCredit', 'compensate', attempt);
      expect(s.command).toMatchObject({
        messageId: `saga-1:reserveCredit:compensate:${attempt}`,
        idempotencyKey: 'saga-1:reserveCredit:compensate',
        payload: { orderId: 'o-1', reservationId: 'cr-1' },
      });
    }

    s.fail('reserveCredit', { retryable: true, type: 'unavailable', message: 'still down' });

    s.expectStatus('failed').expectNoCommand().expectNoTimer();
    expect(s.instance).toMatchObject({
      failedStep: 0,
      cause: {
        step: 'reserveCredit',
        kind: 'compensate',
        type: 'unavailable',
        message: 'still down',
      },
    });
    expect(s.journal.at(-1)).toMatchObject({
      type: 'saga.failed',
      step: 'reserveCredit',
      kind: 'compensate',
    });
    s.expectCancelled('saga-1:deadline');
  });

  it('grows the compensation backoff exponentially', () => {
    const s = compensatingCredit();
    const delays: number[] = [];
    for (const attempt of [2, 3, 4]) {
      s.fail('reserveCredit', { retryable: true });
      delays.push(s.scheduled[0]!.delayMs);
      s.fireTimer(`saga-1:reserveCredit:compensate:${attempt}:retry`);
    }
    // 1s, 2s, 4s, each minus at most 20 % jitter.
    expect(delays[0]).toBeGreaterThanOrEqual(800);
    expect(delays[0]).toBeLessThanOrEqual(1000);
    expect(delays[1]).toBeGreaterThanOrEqual(1600);
    expect(delays[1]).toBeLessThanOrEqual(2000);
    expect(delays[2]).toBeGreaterThanOrEqual(3200);
    expect(delays[2]).toBeLessThanOrEqual(4000);
  });

  it('fails at once on a non-retryable compensation failure, leaving earlier steps un-compensated', () => {
    const s = orderUpTo('chargePayment')
      .fail('chargePayment')
      .fail('reserveInventory', { type: 'gone' });

    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({
      failedStep: 1,
      cause: { step: 'reserveInventory', kind: 'compensate', type: 'gone' },
    });
    expect(s.sent.filter((c) => c.step === 'reserveCredit' && c.kind === 'compensate')).toEqual([]);
  });

  it('honours a custom compensation maxAttempts', () => {
    const s = scenario(tiny({ compensationMaxAttempts: 1 }))
      .start({ n: 1 })
      .reply('reserve', { id: 'r-1' })
      .fail('hold');
    s.expectCommand('reserve', 'compensate')
      .fail('reserve', { retryable: true })
      .expectStatus('failed');
  });

  it('ignores a retryDue for the wrong compensation attempt, or before any backoff, as stale', () => {
    const s = compensatingCredit();
    s.retryDue('reserveCredit', { kind: 'compensate', attempt: 2 }).expectIgnored('stale');
    s.fail('reserveCredit', { retryable: true });
    s.retryDue('reserveCredit', { kind: 'compensate', attempt: 3 }).expectIgnored('stale');
    s.retryDue('reserveCredit', { kind: 'forward', attempt: 2 }).expectIgnored('stale');
    s.retryDue('reserveCredit', { kind: 'compensate', attempt: 2 }).expectCommand(
      'reserveCredit',
      'compensate',
      2,
    );
  });

  it('ignores a compensation reply while its backoff is running as stale', () => {
    const s = compensatingCredit().fail('reserveCredit', { retryable: true });
    s.reply('reserveCredit', {}, { kind: 'compensate', attempt: 1 }).expectIgnored('stale');
    s.reply('reserveCredit', {}, { kind: 'compensate', attempt: 2 }).expectIgnored('stale');
  });
});

describe('decide: compensation timeouts', () => {
  const saga = () => tiny({ compensationTimeout: '10s', compensationMaxAttempts: 2 });
  const compensatingReserve = () =>
    scenario(saga()).start({ n: 1 }).reply('reserve', { id: 'r-1' }).fail('hold');

  it('arms a timeout for each compensation attempt and cancels it on the reply', () => {
    const s = compensatingReserve();
    s.expectCommand('reserve', 'compensate').expectTimer(
      'saga-1:reserve:compensate:1:timeout',
      10_000,
    );
    s.reply('reserve', {}, { kind: 'compensate' }).expectStatus('compensated');
    s.expectCancelled('saga-1:reserve:compensate:1:timeout');
  });

  it('treats a compensation timeout as retryable, even without a retryable flag, then fails', () => {
    const s = compensatingReserve().fireTimer('saga-1:reserve:compensate:1:timeout');

    s.expectStatus('compensating').expectTimer('saga-1:reserve:compensate:2:retry');
    expect(s.journal.slice(-3).map((j) => j.type)).toEqual([
      'step.timedOut',
      'step.failed',
      'step.retrying',
    ]);
    expect(s.journal.at(-2)).toMatchObject({
      kind: 'compensate',
      attempt: 1,
      detail: {
        retryable: true,
        failure: { type: 'timeout', message: 'no reply to compensate attempt 1 in time' },
      },
    });
    s.fireTimer('saga-1:reserve:compensate:2:retry').expectCommand('reserve', 'compensate', 2);
    s.fireTimer('saga-1:reserve:compensate:2:timeout');

    s.expectStatus('failed');
    expect(s.instance).toMatchObject({
      failedStep: 0,
      cause: { kind: 'compensate', type: 'timeout' },
    });
  });

  it('ignores a stale compensation timeout (an older attempt, or after the reply)', () => {
    const s = compensatingReserve().fireTimer('saga-1:reserve:compensate:1:timeout');
    s.fireStaleTimer('saga-1:reserve:compensate:1:timeout').expectIgnored('stale');
    s.fireTimer('saga-1:reserve:compensate:2:retry');
    s.reply('reserve', {}, { kind: 'compensate', attempt: 2 }).expectStatus('compensated');
    s.fireStaleTimer('saga-1:reserve:compensate:2:timeout').expectIgnored('late');
  });
});

const Reserve = defineCommand({
  type: 'test.reserve',
  topic: 'test.commands',
  payload: z.object({ n: z.number() }),
  reply: z.object({ id: z.string() }),
});
const Release = defineCommand({
  type: 'test.release',
  topic: 'test.commands',
  payload: z.object({ id: z.string().min(1) }),
  reply: z.object({}),
});
const Charge = defineCommand({
  type: 'test.charge',
  topic: 'test.commands',
  payload: z.object({ n: z.number().positive() }),
  reply: z.object({}),
});

/** A three-step saga (reserve → hold → charge, the pivot) whose functions the test can sabotage. */
function tiny(options: {
  reservePayload?: (d: { n: number }) => { n: number };
  holdPayload?: (d: { n: number }) => { n: number };
  releasePayload?: (log: { id: string } | undefined) => { id: string };
  chargeOnReply?: () => void;
  compensationMaxAttempts?: number;
  compensationTimeout?: '10s';
}) {
  const undo = (log: { id: string } | undefined) => ({ id: log?.id ?? 'unknown' });
  return defineSaga({ name: 'tiny', version: 1, input: z.object({ n: z.number() }) })
    .step('reserve', {
      command: Reserve,
      payload: options.reservePayload ?? ((d) => ({ n: d.n })),
      compensate: {
        command: Release,
        payload: (_d, log) => (options.releasePayload ?? undo)(log),
        retry: { maxAttempts: options.compensationMaxAttempts },
        timeout: options.compensationTimeout,
      },
    })
    .step('hold', {
      command: Reserve,
      payload: options.holdPayload ?? ((d) => d),
      compensate: { command: Release, payload: (_d, log) => undo(log) },
    })
    .pivot('charge', {
      command: Charge,
      payload: (d) => ({ n: Math.abs(d.n) + 1 }),
      onReply: (d) => (options.chargeOnReply?.(), d),
    })
    .build();
}

describe('decide: an invalid outgoing command', () => {
  it('fails the step as invalid-command and compensates when a payload breaks its schema', () => {
    const s = scenario(tiny({ holdPayload: () => ({ n: 'x' as unknown as number }) }))
      .start({ n: 1 })
      .reply('reserve', { id: 'r-1' });

    s.expectStatus('compensating').expectCommand('reserve', 'compensate');
    expect(s.command.payload).toEqual({ id: 'r-1' });
    expect(s.instance).toMatchObject({
      cause: { step: 'hold', kind: 'forward', type: 'invalid-command' },
    });
    const cause = (s.instance as { cause: { message: string } }).cause;
    expect(cause.message).toMatch(/payload of test\.reserve is invalid: n: /);
    expect(s.sent.map((c) => c.step)).toEqual(['reserve', 'reserve']);
  });

  it('fails the step as invalid-command when a payload function throws', () => {
    const boom = () => {
      throw new Error('boom');
    };
    const s = scenario(tiny({ holdPayload: boom }))
      .start({ n: 1 })
      .reply('reserve', { id: 'r-1' });
    expect(s.instance).toMatchObject({
      status: 'compensating',
      cause: {
        type: 'invalid-command',
        message: 'the forward payload function of step "hold" threw: boom',
      },
    });
  });

  it('compensates at once, with no command, when the first payload is invalid', () => {
    const s = scenario(tiny({ reservePayload: () => ({ n: Number.NaN }) })).start({ n: 1 });
    s.expectStatus('compensated').expectNoCommand();
    expect(s.instance).toMatchObject({
      version: 1,
      cause: { step: 'reserve', type: 'invalid-command' },
    });
  });

  it('fails the saga when a compensation payload is invalid', () => {
    const s = scenario(tiny({ releasePayload: () => ({ id: '' }) }))
      .start({ n: 1 })
      .reply('reserve', { id: 'r-1' })
      .fail('hold');

    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({
      failedStep: 0,
      cause: { step: 'reserve', kind: 'compensate', type: 'invalid-command' },
    });
    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
  });

  it('fails the step as on-reply-threw and compensates when onReply throws before the pivot', () => {
    const saga = defineSaga({ name: 'tiny', version: 1, input: z.object({ n: z.number() }) })
      .step('reserve', {
        command: Reserve,
        payload: (d) => d,
        compensate: { command: Release, payload: (_d, log) => ({ id: log?.id ?? 'x' }) },
      })
      .step('hold', {
        command: Reserve,
        payload: (d) => d,
        onReply: () => {
          throw new Error('oops');
        },
        compensate: { command: Release, payload: (_d, log) => ({ id: log?.id ?? 'x' }) },
      })
      .build();
    const s = scenario(saga)
      .start({ n: 1 })
      .reply('reserve', { id: 'r-1' })
      .reply('hold', { id: 'h-1' });

    // The participant applied "hold", so it is undone first (with its log), then "reserve".
    s.expectStatus('compensating').expectCommand('hold', 'compensate');
    expect(s.command.payload).toEqual({ id: 'h-1' });
    expect(s.instance).toMatchObject({
      cause: {
        step: 'hold',
        type: 'on-reply-threw',
        message: 'on reply threw in step "hold": oops',
      },
    });
  });

  // The pivot's command succeeded, so its effect (a charge) cannot be undone; compensating the
  // steps before it would leave the charge without its reservations.
  // Once the pivot took effect nothing before it may be undone: the saga waits for an operator
  // (it must not end `compensated` with nothing undone and the charge standing).
  it('fails (for an operator) when onReply of the pivot throws after the pivot succeeded', () => {
    const broken = () => {
      throw new Error('oops');
    };
    const s = scenario(tiny({ chargeOnReply: broken }))
      .start({ n: 1 })
      .reply('reserve', { id: 'r-1' })
      .reply('hold', { id: 'h-1' })
      .reply('charge');

    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
    s.expectStatus('failed');
  });

  it('never compensates past the pivot when onReply of the pivot throws', () => {
    const broken = () => {
      throw new Error('oops');
    };
    const s = scenario(tiny({ chargeOnReply: broken }))
      .start({ n: 1 })
      .reply('reserve', { id: 'r-1' })
      .reply('hold', { id: 'h-1' })
      .reply('charge');

    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
  });
});
