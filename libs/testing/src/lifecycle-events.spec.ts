import { orderSaga } from '@sagaflow/sample-order';
import { SagaSimulation } from './saga-simulation';

const input = {
  orderId: 'o-1',
  customerId: 'c-1',
  sku: 'SKU-1',
  quantity: 1,
  amount: 10,
  card: '4242424242424242',
};

/** The core derives lifecycle events from each transition; other services react to them. */
describe('lifecycle events', () => {
  const events = (sim: SagaSimulation) =>
    sim.events.map((e) => `${e.event}${e.step ? `:${e.step}` : ''}`);

  it('publishes started, each completed step, and completed', () => {
    const sim = new SagaSimulation(orderSaga).start(input, 'order-o-1');
    sim
      .replySuccess('reserveCredit', { reservationId: 'r1' })
      .replySuccess('reserveInventory', { reservationId: 'r2' });
    sim
      .replySuccess('chargePayment', { chargeId: 'c1' })
      .replySuccess('confirmOrder', { confirmedAt: 'now' });
    expect(events(sim)).toEqual([
      'saga.started',
      'saga.stepCompleted:reserveCredit',
      'saga.stepCompleted:reserveInventory',
      'saga.stepCompleted:chargePayment',
      'saga.stepCompleted:confirmOrder',
      'saga.completed',
    ]);
    expect(sim.events[0]).toMatchObject({
      sagaType: 'order',
      sagaVersion: 1,
      businessKey: 'order-o-1',
      version: 1,
    });
    expect(new Set(sim.events.map((e) => e.eventId)).size).toBe(sim.events.length);
  });

  it('publishes compensated with the cause, and failed for an operator', () => {
    const declined = new SagaSimulation(orderSaga).start(input);
    declined
      .replySuccess('reserveCredit', { reservationId: 'r1' })
      .replySuccess('reserveInventory', { reservationId: 'r2' })
      .replyFailure('chargePayment', { type: 'card-declined' });
    declined
      .replySuccess('reserveInventory', {}, { kind: 'compensate' })
      .replySuccess('reserveCredit', {}, { kind: 'compensate' });
    expect(declined.status).toBe('compensated');
    expect(declined.events.at(-1)).toMatchObject({
      event: 'saga.compensated',
      detail: { cause: { type: 'card-declined' } },
    });

    const stuck = new SagaSimulation(orderSaga).start(input);
    stuck
      .replySuccess('reserveCredit', { reservationId: 'r1' })
      .replySuccess('reserveInventory', { reservationId: 'r2' });
    stuck
      .replySuccess('chargePayment', { chargeId: 'c1' })
      .replyFailure('confirmOrder', { type: 'order-gone' });
    expect(stuck.events.at(-1)).toMatchObject({
      event: 'saga.failed',
      step: 'confirmOrder',
      detail: { cause: { type: 'order-gone' } },
    });
  });

  it('gives a re-decided transition the same event ids (consumers dedupe on them)', () => {
    const a = new SagaSimulation(orderSaga).start(input);
    const b = new SagaSimulation(orderSaga).start(input);
    expect(a.events.map((e) => e.eventId)).toEqual(b.events.map((e) => e.eventId));
  });
});
