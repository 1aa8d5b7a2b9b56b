import { assertFailureMatrix, failureMatrix } from '@sagaflow/testing';
import { orderSaga } from './order-saga';

const input = {
  orderId: 'o-1',
  customerId: 'c-1',
  sku: 'SKU-1',
  quantity: 2,
  amount: 50,
  card: '4242424242424242',
};
const replies = {
  reserveCredit: () => ({ reservationId: 'cr-1' }),
  reserveInventory: () => ({ reservationId: 'inv-1' }),
  chargePayment: () => ({ chargeId: 'ch-1' }),
  confirmOrder: () => ({ confirmedAt: '2026-11-26T10:00:00.000Z' }),
};

/**
 * The generated failure matrix of the sample saga: every step that awaits a reply is failed,
 * timed out, answered twice and answered late, and the outcome must match the saga rules.
 */
describe('order saga failure matrix', () => {
  const cases = failureMatrix(orderSaga, { input, replies });

  it('covers every awaited step with every fault', () => {
    expect(cases.map((c) => c.name)).toHaveLength(4 * 4);
    expect(cases.every((c) => c.notApplicable === null)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = c.run();
    expect({ status: result.status, compensated: result.compensated }).toEqual(c.expected);
    if (c.fault === 'duplicate' || c.fault === 'late') expect(result.ignored).toBeGreaterThan(0);
  });

  it('pins the outcomes the rules imply', () => {
    const outcome = (name: string) => cases.find((c) => c.name === name)!.expected;
    expect(outcome('reserveCredit: fail')).toEqual({ status: 'compensated', compensated: [] });
    expect(outcome('reserveInventory: fail')).toEqual({
      status: 'compensated',
      compensated: ['reserveCredit'],
    });
    expect(outcome('reserveInventory: timeout')).toEqual({
      status: 'compensated',
      compensated: ['reserveInventory', 'reserveCredit'],
    });
    expect(outcome('chargePayment: fail')).toEqual({
      status: 'compensated',
      compensated: ['reserveInventory', 'reserveCredit'],
    });
    expect(outcome('chargePayment: timeout')).toEqual({ status: 'failed', compensated: [] }); // parked: the charge may have happened
    expect(outcome('confirmOrder: fail')).toEqual({ status: 'failed', compensated: [] }); // past the pivot: never compensated
    expect(outcome('confirmOrder: late')).toEqual({ status: 'completed', compensated: [] });
  });

  it('passes as a whole through assertFailureMatrix', () => {
    expect(() => assertFailureMatrix(orderSaga, { input, replies })).not.toThrow();
  });
});
