import { orderSaga } from '@sagaflow/sample-order';
import { compensationPlan } from './operator';
import { scenario } from './testing/scenario';
import { orderInput as input } from './testing/order-input';

const reserved = () =>
  scenario(orderSaga)
    .start(input)
    .reply('reserveCredit', { reservationId: 'cr-1' })
    .reply('reserveInventory', { reservationId: 'inv-1' });
/** The pivot timed out (onTimeout: 'park'): failed, waiting for an operator. */
const parkedPivot = () => reserved().fireTimer('saga-1:chargePayment:forward:1:timeout');

describe('decide: operator actions', () => {
  it('journals every applied action first, with who and why', () => {
    const s = parkedPivot().operator({ type: 'retry' }, 'alice', 'payment provider is back');
    expect(s.decision.kind === 'applied' && s.decision.journal[0]).toEqual({
      type: 'operator.action',
      detail: { action: 'retry', actor: 'alice', reason: 'payment provider is back' },
    });
  });

  describe('retry', () => {
    it('re-sends a parked pivot as a new attempt with the same idempotency key, and goes on', () => {
      const s = parkedPivot().expectStatus('failed').operator({ type: 'retry' });
      s.expectStatus('running').expectCommand('chargePayment', 'forward', 2);
      expect(s.command.idempotencyKey).toBe('saga-1:chargePayment:forward');
      expect(s.command.messageId).toBe('saga-1:chargePayment:forward:2');
      s.expectTimer('saga-1:chargePayment:forward:2:timeout');
      s.reply('chargePayment', { chargeId: 'ch-1' }, { attempt: 2 }).expectCommand('confirmOrder');
    });

    it('re-sends a failed compensation as its next attempt, then runs the rest', () => {
      const s = reserved()
        .fail('chargePayment', { type: 'card-declined' })
        .expectCommand('reserveInventory', 'compensate', 1)
        .fail('reserveInventory', { kind: 'compensate', type: 'locked' })
        .expectStatus('failed')
        .operator({ type: 'retry' });
      s.expectStatus('compensating').expectCommand('reserveInventory', 'compensate', 2);
      s.reply('reserveInventory', {}, { kind: 'compensate', attempt: 2 }).expectCommand(
        'reserveCredit',
        'compensate',
        1,
      );
      s.reply('reserveCredit', {}, { kind: 'compensate' }).expectStatus('compensated');
    });

    it('re-sends a failed post-pivot step', () => {
      reserved()
        .reply('chargePayment', { chargeId: 'ch-1' })
        .fail('confirmOrder', { type: 'order-closed' })
        .expectStatus('failed')
        .operator({ type: 'retry' })
        .expectStatus('running')
        .expectCommand('confirmOrder', 'forward', 2);
    });

    it('is refused for a saga that is not failed', () => {
      reserved()
        .operator({ type: 'retry' })
        .expectRejected('illegal-action')
        .expectStatus('running');
      expect(reserved().operator({ type: 'retry' }).decision).toMatchObject({
        message: expect.stringContaining('retry applies to a failed saga; this one is running'),
      });
    });
  });

  describe('skip', () => {
    it('treats a parked pivot as succeeded with the operator’s reply data', () => {
      const s = parkedPivot().operator({
        type: 'skip',
        step: 'chargePayment',
        reply: { chargeId: 'ch-manual' },
      });
      s.expectStatus('running').expectCommand('confirmOrder');
      expect(s.instance.data).toMatchObject({ chargeId: 'ch-manual' });
      expect(s.command.payload).toEqual({ orderId: 'o-1', chargeId: 'ch-manual' });
    });

    it('skips a step still waiting for its reply, cancelling its timeout', () => {
      scenario(orderSaga)
        .start(input)
        .operator({ type: 'skip', step: 'reserveCredit', reply: { reservationId: 'cr-9' } })
        .expectCancelled('saga-1:reserveCredit:forward:1:timeout')
        .expectCommand('reserveInventory');
    });

    it('validates the reply data against the step’s reply schema', () => {
      parkedPivot()
        .operator({ type: 'skip', step: 'chargePayment', reply: { charge: 1 } })
        .expectRejected('invalid-reply')
        .expectStatus('failed');
    });

    it('refuses unknown steps and steps that are not outstanding', () => {
      parkedPivot()
        .operator({ type: 'skip', step: 'nope', reply: {} })
        .expectRejected('unknown-step');
      parkedPivot()
        .operator({ type: 'skip', step: 'reserveCredit', reply: { reservationId: 'x' } })
        .expectRejected('illegal-action');
    });
  });

  describe('compensate now and cancel', () => {
    it('undoes what completed and what is outstanding, latest first, as the plan says', () => {
      const s = scenario(orderSaga)
        .start(input)
        .reply('reserveCredit', { reservationId: 'cr-1' })
        .operator({ type: 'compensate' });
      s.expectStatus('compensating')
        .expectCancelled('saga-1:reserveInventory:forward:1:timeout')
        .expectCommand('reserveInventory', 'compensate', 1);
      expect(compensationPlan(orderSaga, s.instance)).toEqual([
        {
          step: 'reserveInventory',
          commandType: 'inventory.release',
          topic: expect.any(String),
          idempotencyKey: 'saga-1:reserveInventory:compensate',
          compensates: 'saga-1:reserveInventory:forward',
          payload: { orderId: 'o-1' },
        },
        {
          step: 'reserveCredit',
          commandType: 'credit.release',
          topic: expect.any(String),
          idempotencyKey: 'saga-1:reserveCredit:compensate',
          compensates: 'saga-1:reserveCredit:forward',
          payload: { orderId: 'o-1', reservationId: 'cr-1' },
        },
      ]);
      expect(s.command.payload).toEqual(compensationPlan(orderSaga, s.instance)[0]!.payload);
      s.reply('reserveInventory', {}, { kind: 'compensate' })
        .expectCommand('reserveCredit', 'compensate', 1)
        .reply('reserveCredit', {}, { kind: 'compensate' })
        .expectStatus('compensated');
      expect(s.instance).toMatchObject({ cause: { type: 'operator-compensate' } });
    });

    it('records a cancellation as such', () => {
      const s = scenario(orderSaga)
        .start(input)
        .operator({ type: 'cancel' }, 'bob', 'duplicate order');
      expect(s.instance).toMatchObject({
        status: 'compensating',
        cause: { type: 'cancelled', message: 'cancelled by bob: duplicate order' },
      });
    });

    it('is refused past the pivot, while the pivot is outstanding or unknown, and when done', () => {
      reserved()
        .reply('chargePayment', { chargeId: 'ch-1' })
        .operator({ type: 'compensate' })
        .expectRejected('illegal-action');
      reserved().operator({ type: 'cancel' }).expectRejected('illegal-action');
      parkedPivot().operator({ type: 'compensate' }).expectRejected('illegal-action');
      scenario(orderSaga)
        .start(input)
        .fail('reserveCredit', { type: 'no-credit' })
        .expectStatus('compensated')
        .operator({ type: 'cancel' })
        .expectRejected('illegal-action');
    });
  });

  describe('resume', () => {
    it('sends an attempt waiting for its backoff now and cancels the retry timer', () => {
      const s = scenario(orderSaga)
        .start(input)
        .fail('reserveCredit', { retryable: true, type: 'busy' })
        .expectNoCommand()
        .operator({ type: 'resume' });
      s.expectCommand('reserveCredit', 'forward', 2).expectCancelled(
        'saga-1:reserveCredit:forward:2:retry',
      );
      s.fireStaleTimer('saga-1:reserveCredit:forward:2:retry').expectIgnored('stale');
    });

    it('is refused when nothing waits for a backoff', () => {
      scenario(orderSaga)
        .start(input)
        .operator({ type: 'resume' })
        .expectRejected('illegal-action');
    });
  });

  describe('mark compensated', () => {
    it('records a compensation done by hand and goes on to the next one', () => {
      const s = reserved()
        .fail('chargePayment', { type: 'card-declined' })
        .fail('reserveInventory', { kind: 'compensate', type: 'locked' })
        .expectStatus('failed')
        .operator({ type: 'markCompensated', evidence: 'ticket OPS-12: released by hand' });
      expect(s.decision.kind === 'applied' && s.decision.journal[0]).toMatchObject({
        type: 'operator.action',
        detail: { action: 'markCompensated', evidence: 'ticket OPS-12: released by hand' },
      });
      s.expectCommand('reserveCredit', 'compensate', 1)
        .reply('reserveCredit', {}, { kind: 'compensate' })
        .expectStatus('compensated');
    });

    it('is refused for a forward failure and a running saga', () => {
      parkedPivot()
        .operator({ type: 'markCompensated', evidence: 'x' })
        .expectRejected('illegal-action');
      reserved()
        .operator({ type: 'markCompensated', evidence: 'x' })
        .expectRejected('illegal-action');
    });
  });
});
