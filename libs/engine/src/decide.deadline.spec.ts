import { defineCommand, defineSaga } from '@sagaflow/saga-dsl';
import { orderSaga } from '@sagaflow/sample-order';
import { z } from 'zod';
import { scenario } from './testing/scenario';
import { orderInput as input } from './testing/order-input';

const deadlineCause = (step: string) => ({
  step,
  kind: 'forward',
  type: 'deadline',
  message: 'the saga did not finish within 300000 ms',
});

/** The order saga with credit reserved, awaiting reserveInventory attempt 1. */
const atInventory = () =>
  scenario(orderSaga).start(input).reply('reserveCredit', { reservationId: 'cr-1' });
const compensations = (s: ReturnType<typeof atInventory>) =>
  s.sent.filter((c) => c.kind === 'compensate').map((c) => c.step);

describe('decide: the saga deadline before the pivot', () => {
  it('is armed at start for the saga, keyed by the saga id', () => {
    const s = scenario(orderSaga).start(input).expectTimer('saga-1:deadline', 300_000);
    expect(s.scheduled[0]!.event).toEqual({ type: 'deadlineReached' });
  });

  it('compensates at once when no reply is awaited (the step waits for its backoff)', () => {
    const s = atInventory().fail('reserveInventory', { retryable: true });
    s.fireTimer('saga-1:deadline');

    s.expectStatus('compensating').expectCommand('reserveCredit', 'compensate');
    expect(s.instance).toMatchObject({ cause: deadlineCause('reserveInventory') });
    expect(s.journal.slice(-3).map((j) => j.type)).toEqual([
      'saga.deadlineReached',
      'saga.compensating',
      'command.sent',
    ]);
    expect(s.journal.at(-3)).toEqual({
      type: 'saga.deadlineReached',
      detail: { pastPivot: false },
    });
    // No new attempt starts: the pending retry is dropped, and its timer is ignored.
    s.fireStaleTimer('saga-1:reserveInventory:forward:2:retry').expectIgnored('stale');
    s.reply('reserveCredit').expectStatus('compensated');
    expect(s.sent.filter((c) => c.step === 'reserveInventory')).toHaveLength(1);
  });

  it('waits for an awaited reply, then compensates everything that completed', () => {
    const s = atInventory().fireTimer('saga-1:deadline');

    s.expectStatus('running').expectNoCommand();
    expect(s.instance).toMatchObject({
      pending: [{ step: 1, attempt: 1, waiting: 'reply' }],
      stageFailure: deadlineCause('reserveInventory'),
    });

    s.reply('reserveInventory', { reservationId: 'inv-1' });
    s.expectStatus('compensating').expectCommand('reserveInventory', 'compensate');
    expect(s.command.payload).toEqual({ orderId: 'o-1', reservationId: 'inv-1' });
    s.reply('reserveInventory').expectCommand('reserveCredit', 'compensate');
    s.reply('reserveCredit').expectStatus('compensated');
    expect(s.instance).toMatchObject({ cause: deadlineCause('reserveInventory') });
  });

  it('does not retry an awaited step that fails retryably after the deadline', () => {
    const s = atInventory().fireTimer('saga-1:deadline');
    s.fail('reserveInventory', { retryable: true, type: 'unavailable' });
    s.expectStatus('compensating').expectCommand('reserveCredit', 'compensate').expectNoTimer();
    expect(s.instance).toMatchObject({ cause: { type: 'deadline' } });
  });

  it('does not retry an awaited step that times out after the deadline, and compensates it as unknown', () => {
    const s = atInventory()
      .fireTimer('saga-1:deadline')
      .fireTimer('saga-1:reserveInventory:forward:1:timeout');
    s.expectStatus('compensating').expectCommand('reserveInventory', 'compensate');
    expect(s.command.payload).toEqual({ orderId: 'o-1' });
    expect(compensations(s.reply('reserveInventory'))).toEqual([
      'reserveInventory',
      'reserveCredit',
    ]);
  });

  it('goes forward if the awaited pivot succeeds after the deadline (past the pivot it cannot go back)', () => {
    const s = atInventory()
      .reply('reserveInventory', { reservationId: 'inv-1' })
      .fireTimer('saga-1:deadline');
    s.expectStatus('running');
    s.reply('chargePayment', { chargeId: 'ch-1' }).expectCommand('confirmOrder');
    expect(s.instance).toMatchObject({ stageFailure: null });
    s.reply('confirmOrder', { confirmedAt: 'now' }).expectStatus('completed');
  });

  it('compensates if the awaited pivot fails after the deadline', () => {
    const s = atInventory()
      .reply('reserveInventory', { reservationId: 'inv-1' })
      .fireTimer('saga-1:deadline');
    s.fail('chargePayment', { retryable: true });
    s.expectStatus('compensating').expectCommand('reserveInventory', 'compensate');
  });

  it('compensates nothing when nothing completed yet', () => {
    const s = scenario(orderSaga)
      .start(input)
      .fail('reserveCredit', { retryable: true })
      .deadline();
    s.expectStatus('compensated').expectNoCommand();
    expect(s.instance).toMatchObject({ completed: [], cause: deadlineCause('reserveCredit') });
  });

  it('falls due on the virtual clock after the saga deadline', () => {
    const Slow = defineCommand({
      type: 'test.slow',
      topic: 't',
      payload: z.object({}),
      reply: z.object({}),
    });
    const saga = defineSaga({ name: 'slow', version: 1, input: z.object({}), deadline: '1m' })
      .step('a', {
        command: Slow,
        payload: () => ({}),
        compensate: { command: Slow, payload: () => ({}) },
      })
      .step('b', {
        command: Slow,
        payload: () => ({}),
        compensate: { command: Slow, payload: () => ({}) },
      })
      .build();
    const s = scenario(saga).start({}).reply('a').elapse(59_999);
    expect(s.instance).toMatchObject({ stageFailure: null });
    s.elapse(1);
    expect(s.instance).toMatchObject({
      stageFailure: { type: 'deadline', message: 'the saga did not finish within 60000 ms' },
    });
    s.reply('b').expectCommand('b', 'compensate');
  });

  // A step whose attempt timed out and that waits for its retry timer may have been applied:
  // the deadline gives up on it as unknown, and it is compensated first.
  it('compensates a step that timed out and waits for its retry, as unknown, first', () => {
    const s = atInventory()
      .fireTimer('saga-1:reserveInventory:forward:1:timeout')
      .fireTimer('saga-1:deadline');
    s.expectCommand('reserveInventory', 'compensate');
  });
});

describe('decide: the saga deadline after the pivot', () => {
  const confirming = () =>
    atInventory()
      .reply('reserveInventory', { reservationId: 'inv-1' })
      .reply('chargePayment', { chargeId: 'ch-1' });

  it('is only journaled: the saga keeps going and completes', () => {
    const s = confirming();
    const before = s.instance;
    s.fireTimer('saga-1:deadline');

    s.expectStatus('running').expectNoCommand();
    expect(s.effects).toEqual([]);
    expect(s.journal.at(-1)).toEqual({ type: 'saga.deadlineReached', detail: { pastPivot: true } });
    expect(s.instance).toEqual({ ...before, version: before.version + 1 });
    s.reply('confirmOrder', { confirmedAt: 'now' })
      .expectStatus('completed')
      .expectCommand('notifyCustomer');
  });

  it('does not stop the retries of a retriable step', () => {
    const s = confirming().fail('confirmOrder', { retryable: true }).fireTimer('saga-1:deadline');
    s.fireTimer('saga-1:confirmOrder:forward:2:retry').expectCommand('confirmOrder', 'forward', 2);
  });
});

describe('decide: the deadline timer once the saga ended', () => {
  it.each([
    [
      'completed',
      () =>
        atInventory()
          .reply('reserveInventory', { reservationId: 'i' })
          .reply('chargePayment', { chargeId: 'c' })
          .reply('confirmOrder', { confirmedAt: 'now' }),
    ],
    ['compensated', () => scenario(orderSaga).start(input).fail('reserveCredit')],
    [
      'failed',
      () =>
        atInventory()
          .reply('reserveInventory', { reservationId: 'i' })
          .fireTimer('saga-1:chargePayment:forward:1:timeout'),
    ],
  ] as const)(
    'is cancelled when the saga is %s, and ignored as late if it fires anyway',
    (status, run) => {
      const s = run();
      s.expectStatus(status).expectCancelled('saga-1:deadline');
      s.fireStaleTimer('saga-1:deadline').expectIgnored('late');
    },
  );

  it('is not armed for a saga without a deadline, and nothing is cancelled at the end', () => {
    const Quick = defineCommand({
      type: 'test.quick',
      topic: 't',
      payload: z.object({}),
      reply: z.object({}),
    });
    const saga = defineSaga({ name: 'quick', version: 1, input: z.object({}) })
      .pivot('only', { command: Quick, payload: () => ({}) })
      .build();
    const s = scenario(saga).start({}).expectNoTimer();
    s.reply('only').expectStatus('completed');
    expect(s.cancelled.filter((k) => k.endsWith(':deadline'))).toEqual([]);
  });
});
