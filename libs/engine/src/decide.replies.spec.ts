import { backoffDelay } from '@sagaflow/compensation';
import { defineCommand, defineSaga } from '@sagaflow/saga-dsl';
import { orderSaga } from '@sagaflow/sample-order';
import { z } from 'zod';
import { scenario } from './testing/scenario';
import { orderInput as input } from './testing/order-input';

/** The order saga past its pivot, awaiting confirmOrder attempt 1. */
function confirming() {
  return scenario(orderSaga)
    .start(input)
    .reply('reserveCredit', { reservationId: 'cr-1' })
    .reply('reserveInventory', { reservationId: 'inv-1' })
    .reply('chargePayment', { chargeId: 'ch-1' });
}

const confirmPolicy = orderSaga.steps[3]!.compiled.retry;
const confirmDelay = (attempt: number) =>
  backoffDelay(confirmPolicy, attempt, `saga-1:confirmOrder:forward:${attempt}`);

const Ping = defineCommand({
  type: 'test.ping',
  topic: 'test',
  payload: z.object({}),
  reply: z.object({}),
});

describe('decide: a failing step after the pivot', () => {
  it('waits out the backoff, then retries with attempt + 1 and the same idempotency key', () => {
    const s = confirming().fail('confirmOrder', { retryable: true, type: 'unavailable' });

    s.expectStatus('running').expectNoCommand();
    s.expectTimer('saga-1:confirmOrder:forward:2:retry', confirmDelay(1));
    expect(s.instance).toMatchObject({ pending: [{ step: 3, attempt: 2, waiting: 'retry' }] });
    expect(s.journal.slice(-2).map((j) => [j.type, j.attempt, j.detail])).toEqual([
      [
        'step.failed',
        1,
        {
          retryable: true,
          failure: {
            step: 'confirmOrder',
            kind: 'forward',
            type: 'unavailable',
            message: 'confirmOrder failed',
          },
        },
      ],
      ['step.retrying', 2, { delayMs: confirmDelay(1) }],
    ]);

    s.fireTimer('saga-1:confirmOrder:forward:2:retry');

    s.expectCommand('confirmOrder', 'forward', 2);
    expect(s.command).toMatchObject({
      messageId: 'saga-1:confirmOrder:forward:2',
      idempotencyKey: 'saga-1:confirmOrder:forward',
      payload: { orderId: 'o-1', chargeId: 'ch-1' },
    });
    s.expectTimer('saga-1:confirmOrder:forward:2:timeout', 30_000);
    expect(s.instance).toMatchObject({ pending: [{ step: 3, attempt: 2, waiting: 'reply' }] });
  });

  it('cancels the timeout of the attempt that failed', () => {
    const s = confirming().fail('confirmOrder', { retryable: true });
    s.expectCancelled('saga-1:confirmOrder:forward:1:timeout');
    s.expectArmed('saga-1:deadline', 'saga-1:confirmOrder:forward:2:retry');
  });

  it('gives up after the sample policy of 20 attempts and fails without compensating', () => {
    const s = confirming();
    for (let attempt = 1; attempt < 20; attempt++) {
      s.fail('confirmOrder', { retryable: true, type: 'unavailable' });
      s.fireTimer(s.timerKey('confirmOrder', 'forward', attempt + 1, 'retry'));
      s.expectCommand('confirmOrder', 'forward', attempt + 1);
    }

    s.fail('confirmOrder', { retryable: true, type: 'unavailable', message: 'down' });

    s.expectStatus('failed').expectNoCommand().expectNoTimer();
    expect(s.instance).toMatchObject({
      failedStep: 3,
      cause: { step: 'confirmOrder', kind: 'forward', type: 'unavailable', message: 'down' },
    });
    expect(s.sent.filter((c) => c.step === 'confirmOrder')).toHaveLength(20);
    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
    // The deadline is only journaled after the pivot; failing cancels it all the same.
    s.expectCancelled('saga-1:deadline');
  });

  it('gives a retriable step 10 attempts by default, backing off from 1s', () => {
    const saga = defineSaga({ name: 'ping', version: 1, input: z.object({}) })
      .pivot('first', { command: Ping, payload: () => ({}) })
      .retriable('second', { command: Ping, payload: () => ({}) })
      .build();
    const s = scenario(saga).start({}).reply('first');
    const delays: number[] = [];
    for (let attempt = 1; attempt < 10; attempt++) {
      s.fail('second', { retryable: true });
      delays.push(s.scheduled[0]!.delayMs);
      s.fireTimer(s.timerKey('second', 'forward', attempt + 1, 'retry'));
    }
    s.fail('second', { retryable: true }).expectStatus('failed');

    expect(saga.compiled.steps[1]!.retry).toMatchObject({ maxAttempts: 10, initialDelayMs: 1000 });
    expect(delays[0]).toBeGreaterThan(800);
    expect(delays[0]).toBeLessThanOrEqual(1000);
  });

  it('fails at once on a non-retryable failure, without compensating', () => {
    const s = confirming().fail('confirmOrder', { type: 'order-cancelled' });

    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({ failedStep: 3, cause: { type: 'order-cancelled' } });
    expect(s.journal.at(-1)).toMatchObject({ type: 'saga.failed', step: 'confirmOrder' });
    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
  });

  it('honours a custom maxAttempts', () => {
    const saga = defineSaga({ name: 'ping', version: 1, input: z.object({}) })
      .pivot('first', { command: Ping, payload: () => ({}) })
      .retriable('second', { command: Ping, payload: () => ({}), retry: { maxAttempts: 2 } })
      .build();
    const s = scenario(saga).start({}).reply('first');

    s.fail('second', { retryable: true }).fireTimer('saga-1:second:forward:2:retry');
    s.expectCommand('second', 'forward', 2);
    s.fail('second', { retryable: true }).expectStatus('failed');
  });

  it('resends at once, with no timer, when the backoff is zero', () => {
    const saga = defineSaga({ name: 'ping', version: 1, input: z.object({}) })
      .pivot('first', { command: Ping, payload: () => ({}) })
      .retriable('second', { command: Ping, payload: () => ({}), retry: { initialDelay: 0 } })
      .build();
    const s = scenario(saga).start({}).reply('first').fail('second', { retryable: true });

    s.expectCommand('second', 'forward', 2).expectNoTimer();
    expect(s.journal.slice(-3).map((j) => [j.type, j.attempt])).toEqual([
      ['step.failed', 1],
      ['step.retrying', 2],
      ['command.sent', 2],
    ]);
    expect(s.instance).toMatchObject({ pending: [{ step: 1, attempt: 2, waiting: 'reply' }] });
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
    const s = confirming()
      .fail('confirmOrder', { retryable: true })
      .fireTimer('saga-1:confirmOrder:forward:2:retry');
    s.reply('confirmOrder', { confirmedAt: 'now' }, { attempt: 1 }).expectIgnored('stale');
    s.reply('confirmOrder', { confirmedAt: 'now' }, { attempt: 2 }).expectStatus('completed');
  });

  it('ignores a reply to the next attempt while its backoff is still running as stale', () => {
    const s = confirming().fail('confirmOrder', { retryable: true });
    s.reply('confirmOrder', { confirmedAt: 'now' }, { attempt: 2 }).expectIgnored('stale');
    s.reply('confirmOrder', { confirmedAt: 'now' }, { attempt: 1 }).expectIgnored('stale');
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

  it('ignores a reply to the notification (none is awaited) as late', () => {
    const s = confirming().reply('confirmOrder', { confirmedAt: 'now' });
    s.reply('notifyCustomer', {}).expectIgnored('late');
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
