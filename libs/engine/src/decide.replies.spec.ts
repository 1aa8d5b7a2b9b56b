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

/** The order saga past its pivot, awaiting confirmOrder attempt 1. */
function confirming() {
  return scenario(orderSaga)
    .start(input)
    .reply('reserveCredit', { reservationId: 'cr-1' })
    .reply('reserveInventory', { reservationId: 'inv-1' })
    .reply('chargePayment', { chargeId: 'ch-1' });
}

describe('decide: a failing step after the pivot', () => {
  it('retries a retryable failure with attempt + 1 and the same idempotency key', () => {
    const s = confirming().fail('confirmOrder', { retryable: true, type: 'unavailable' });

    s.expectStatus('running').expectCommand('confirmOrder', 'forward', 2);
    expect(s.command).toMatchObject({
      messageId: 'saga-1:confirmOrder:forward:2',
      idempotencyKey: 'saga-1:confirmOrder:forward',
      payload: { orderId: 'o-1', chargeId: 'ch-1' },
    });
    expect(s.journal.slice(-3).map((j) => [j.type, j.attempt])).toEqual([
      ['step.failed', 1],
      ['step.retrying', 2],
      ['command.sent', 2],
    ]);
  });

  it('gives up after 10 attempts (the retriable default) and fails without compensating', () => {
    const s = confirming();
    for (let attempt = 1; attempt < 10; attempt++) {
      s.fail('confirmOrder', { retryable: true, type: 'unavailable' }).expectCommand(
        'confirmOrder',
        'forward',
        attempt + 1,
      );
    }

    s.fail('confirmOrder', { retryable: true, type: 'unavailable', message: 'down' });

    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({
      failedStep: 3,
      cause: { step: 'confirmOrder', kind: 'forward', type: 'unavailable', message: 'down' },
    });
    expect(s.sent.filter((c) => c.step === 'confirmOrder')).toHaveLength(10);
    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
  });

  it('fails at once on a non-retryable failure, without compensating', () => {
    const s = confirming().fail('confirmOrder', { type: 'order-cancelled' });

    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({ failedStep: 3, cause: { type: 'order-cancelled' } });
    expect(s.journal.at(-1)).toMatchObject({ type: 'saga.failed', step: 'confirmOrder' });
    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
  });

  it('honours a custom maxAttempts', () => {
    const Ping = defineCommand({
      type: 'test.ping',
      topic: 'test',
      payload: z.object({}),
      reply: z.object({}),
    });
    const saga = defineSaga({ name: 'ping', version: 1, input: z.object({}) })
      .pivot('first', { command: Ping, payload: () => ({}) })
      .retriable('second', { command: Ping, payload: () => ({}), maxAttempts: 2 })
      .build();
    const s = scenario(saga).start({}).reply('first');

    s.fail('second', { retryable: true }).expectCommand('second', 'forward', 2);
    s.fail('second', { retryable: true }).expectStatus('failed');
  });
});

describe('decide: timeouts', () => {
  it('treats a timeout of the current attempt like a retryable failure', () => {
    const s = confirming().timeout('confirmOrder');

    s.expectCommand('confirmOrder', 'forward', 2);
    expect(s.journal.at(-3)).toMatchObject({
      type: 'step.failed',
      detail: { retryable: true, failure: { type: 'timeout', message: 'no reply to attempt 1' } },
    });
  });

  it('ignores a timeout of an older attempt as stale', () => {
    const s = confirming().timeout('confirmOrder');
    const version = s.instance.version;

    s.timeout('confirmOrder', { attempt: 1 }).expectIgnored('stale');
    expect(s.instance.version).toBe(version);
  });

  it('ignores a timeout for another step, or of the wrong kind, as stale', () => {
    confirming().timeout('reserveCredit').expectIgnored('stale');
    confirming().timeout('confirmOrder', { kind: 'compensate' }).expectIgnored('stale');
    confirming().timeout('noSuchStep').expectIgnored('stale');
  });

  it('ignores a timeout once the saga has completed as late', () => {
    confirming()
      .reply('confirmOrder', { confirmedAt: 'now' })
      .timeout('confirmOrder')
      .expectIgnored('late');
  });
});

describe('decide: duplicate, stale and late replies', () => {
  it('ignores a duplicate of a reply it already applied as stale', () => {
    const s = scenario(orderSaga).start(input).reply('reserveCredit', { reservationId: 'cr-1' });
    const before = s.instance;

    s.reply('reserveCredit', { reservationId: 'cr-1' }).expectIgnored('stale');
    expect(s.instance).toBe(before);
    expect(s.decision).toMatchObject({
      message: expect.stringContaining('forward "reserveCredit" attempt 1'),
    });
  });

  it('ignores a reply from an older attempt as stale', () => {
    const s = confirming().fail('confirmOrder', { retryable: true });
    s.reply('confirmOrder', { confirmedAt: 'now' }, { attempt: 1 }).expectIgnored('stale');
    s.reply('confirmOrder', { confirmedAt: 'now' }, { attempt: 2 }).expectStatus('completed');
  });

  it('ignores a reply for a step it has not reached yet, or of the wrong kind, as stale', () => {
    scenario(orderSaga)
      .start(input)
      .reply('chargePayment', { chargeId: 'ch-1' })
      .expectIgnored('stale');
    scenario(orderSaga)
      .start(input)
      .reply('reserveCredit', {}, { kind: 'compensate' })
      .expectIgnored('stale');
  });

  it('checks staleness before the reply schema, so a stale reply is never rejected', () => {
    scenario(orderSaga).start(input).reply('chargePayment', { wrong: true }).expectIgnored('stale');
  });

  it('ignores a reply after the saga completed as late', () => {
    confirming()
      .reply('confirmOrder', { confirmedAt: 'now' })
      .reply('confirmOrder', { confirmedAt: 'now' })
      .expectIgnored('late');
  });

  it('ignores a reply after the saga was compensated as late', () => {
    const s = scenario(orderSaga).start(input).fail('reserveCredit').expectStatus('compensated');
    s.reply('reserveCredit', { reservationId: 'cr-1' }).expectIgnored('late');
    expect(s.decision).toMatchObject({ message: expect.stringContaining('compensated') });
  });

  it('ignores a reply while the saga waits for an operator as late', () => {
    confirming()
      .fail('confirmOrder')
      .expectStatus('failed')
      .reply('confirmOrder', { confirmedAt: 'now' })
      .expectIgnored('late');
  });
});

describe('decide: rejected replies', () => {
  it('rejects a reply whose data does not match the reply schema, with field errors', () => {
    const s = scenario(orderSaga).start(input);
    const before = s.instance;

    s.reply('reserveCredit', { reservationId: 42 }).expectRejected('invalid-reply');

    expect(s.decision).toMatchObject({
      message: 'reply to forward "reserveCredit" does not match its schema',
      errors: [{ path: 'reservationId', message: expect.any(String) }],
    });
    expect(s.instance).toBe(before);
    s.reply('reserveCredit', { reservationId: 'cr-1' }).expectCommand('reserveInventory');
  });

  it('rejects a reply naming a step the saga does not have', () => {
    const s = scenario(orderSaga).start(input).reply('shipOrder', {});
    s.expectRejected('unknown-step');
    expect(s.decision).toMatchObject({
      errors: [],
      message: expect.stringContaining('"shipOrder"'),
    });
  });

  it('rejects a reply for an unknown step even after the saga completed', () => {
    confirming()
      .reply('confirmOrder', { confirmedAt: 'now' })
      .reply('shipOrder', {})
      .expectRejected('unknown-step');
  });
});
