import { defineCommand, defineSaga } from '@sagaflow/saga-dsl';
import { orderSaga } from '@sagaflow/sample-order';
import { z } from 'zod';
import { scenario } from './testing/scenario';

const input = {
  orderId: 'o-1',
  customerId: 'c-1',
  sku: 'sku-1',
  quantity: 2,
  amount: 50,
  card: '4111111111111111',
};

/** The order saga with the steps before `step` done (reservation ids cr-1 and inv-1). */
function orderUpTo(step: 'reserveCredit' | 'reserveInventory' | 'chargePayment') {
  const s = scenario(orderSaga).start(input);
  if (step === 'reserveCredit') return s;
  s.reply('reserveCredit', { reservationId: 'cr-1' });
  if (step === 'reserveInventory') return s;
  return s.reply('reserveInventory', { reservationId: 'inv-1' });
}

describe('decide: a forward failure before or at the pivot', () => {
  it('compensates immediately, with no command, when the first step fails', () => {
    const s = orderUpTo('reserveCredit').fail('reserveCredit', {
      type: 'insufficient-credit',
      message: 'limit reached',
    });

    s.expectStatus('compensated').expectNoCommand();
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
  });

  it.each([
    ['reserveInventory', [['reserveCredit', 'credit.release', { reservationId: 'cr-1' }]]],
    [
      'chargePayment',
      [
        ['reserveInventory', 'inventory.release', { reservationId: 'inv-1' }],
        ['reserveCredit', 'credit.release', { reservationId: 'cr-1' }],
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
        idempotencyKey: `saga-1:${step}:compensate`,
        compensates: `saga-1:${step}:forward`,
      });
      expect(s.instance).toMatchObject({ cause });
      s.reply(step);
    }

    s.expectStatus('compensated').expectNoCommand();
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

  it('does not retry a retryable failure of a step with the default single attempt', () => {
    orderUpTo('reserveInventory')
      .fail('reserveInventory', { retryable: true })
      .expectStatus('compensating')
      .expectCommand('reserveCredit', 'compensate');
  });

  it('treats a timeout of a compensatable step like a retryable failure', () => {
    const s = orderUpTo('reserveInventory').timeout('reserveInventory');
    s.expectStatus('compensating').expectCommand('reserveCredit', 'compensate');
    expect(s.instance).toMatchObject({
      cause: { step: 'reserveInventory', type: 'timeout', message: 'no reply to attempt 1' },
    });
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
});

describe('decide: a failing compensation', () => {
  const compensatingCredit = () =>
    orderUpTo('reserveInventory').fail('reserveInventory', { type: 'out-of-stock' });

  it('retries a retryable failure with the same idempotency key, up to 3 attempts, then fails', () => {
    const s = compensatingCredit();
    for (const attempt of [2, 3]) {
      s.fail('reserveCredit', { retryable: true, type: 'unavailable' });
      s.expectStatus('compensating').expectCommand('reserveCredit', 'compensate', attempt);
      expect(s.command).toMatchObject({
        messageId: `saga-1:reserveCredit:compensate:${attempt}`,
        idempotencyKey: 'saga-1:reserveCredit:compensate',
        payload: { reservationId: 'cr-1' },
      });
    }

    s.fail('reserveCredit', { retryable: true, type: 'unavailable', message: 'still down' });

    s.expectStatus('failed').expectNoCommand();
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

  it('treats a compensation timeout like a retryable failure and ignores a stale one', () => {
    const s = compensatingCredit().timeout('reserveCredit');
    s.expectCommand('reserveCredit', 'compensate', 2);
    s.timeout('reserveCredit', { attempt: 1 }).expectIgnored('stale');
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
  releasePayload?: (log: { id: string }) => { id: string };
  chargeOnReply?: () => void;
  compensationMaxAttempts?: number;
}) {
  return defineSaga({ name: 'tiny', version: 1, input: z.object({ n: z.number() }) })
    .step('reserve', {
      command: Reserve,
      payload: options.reservePayload ?? ((d) => ({ n: d.n })),
      compensate: {
        command: Release,
        payload: (_d, log) => (options.releasePayload ?? ((l) => l))(log),
        maxAttempts: options.compensationMaxAttempts,
      },
    })
    .step('hold', {
      command: Reserve,
      payload: options.holdPayload ?? ((d) => d),
      compensate: { command: Release, payload: (_d, log) => log },
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
        message: 'the payload function of step "hold" threw: boom',
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
        compensate: { command: Release, payload: (_d, log) => log },
      })
      .step('hold', {
        command: Reserve,
        payload: (d) => d,
        onReply: () => {
          throw new Error('oops');
        },
        compensate: { command: Release, payload: (_d, log) => log },
      })
      .build();
    const s = scenario(saga)
      .start({ n: 1 })
      .reply('reserve', { id: 'r-1' })
      .reply('hold', { id: 'h-1' });

    // The participant applied "hold", so it is undone first, then "reserve".
    s.expectStatus('compensating').expectCommand('hold', 'compensate');
    expect(s.instance).toMatchObject({ cause: { step: 'hold', type: 'on-reply-threw' } });
  });

  // The pivot's command succeeded, so its effect (a charge) cannot be undone; compensating the
  // steps before it would leave the charge without its reservations.
  it('does not compensate when onReply of the pivot throws after the pivot succeeded', () => {
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
});
