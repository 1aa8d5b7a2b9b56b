import { orderSaga } from '@sagaflow/sample-order';
import { unmatchedReply } from './provenance';
import { scenario } from './testing/scenario';
import { orderInput as input } from './testing/order-input';

const address = (step: string, kind: 'forward' | 'compensate', attempt: number, id = 'saga-1') => ({
  inReplyTo: `${id}:${step}:${kind}:${attempt}`,
  step,
  kind,
  attempt,
});

describe('unmatchedReply: a reply must answer a command the orchestrator could have sent', () => {
  const running = scenario(orderSaga).start(input).instance;

  it('accepts the reply to the awaited command, and older attempts (those are stale, not forged)', () => {
    expect(unmatchedReply(orderSaga, running, address('reserveCredit', 'forward', 1))).toBeNull();
    const retried = scenario(orderSaga)
      .start(input)
      .fail('reserveCredit', { retryable: true, type: 'unavailable' })
      .retryDue('reserveCredit').instance;
    expect(unmatchedReply(orderSaga, retried, address('reserveCredit', 'forward', 1))).toBeNull();
    expect(unmatchedReply(orderSaga, retried, address('reserveCredit', 'forward', 2))).toBeNull();
  });

  it('refuses an inReplyTo that is not the command for (saga, step, kind, attempt)', () => {
    const forged = { ...address('reserveCredit', 'forward', 1), inReplyTo: 'cmd-42' };
    expect(unmatchedReply(orderSaga, running, forged)).toMatch(
      /inReplyTo "cmd-42" is not the command forward "reserveCredit" attempt 1 .*echo the command's messageId/,
    );
    const otherSaga = address('reserveCredit', 'forward', 1, 'saga-2');
    expect(unmatchedReply(orderSaga, running, otherSaga)).toMatch(/expected "saga-1:reserveCredit/);
  });

  it('refuses an attempt above the one the saga is at, even with a matching inReplyTo', () => {
    expect(unmatchedReply(orderSaga, running, address('reserveCredit', 'forward', 999))).toBe(
      'forward "reserveCredit" attempt 999 was never sent: the saga is at attempt 1',
    );
  });

  it('checks compensations the same way', () => {
    const compensating = scenario(orderSaga)
      .start(input)
      .reply('reserveCredit', { reservationId: 'cr-1' })
      .fail('reserveInventory', { retryable: false, type: 'out-of-stock' }).instance;
    expect(compensating.status).toBe('compensating');
    expect(
      unmatchedReply(orderSaga, compensating, address('reserveCredit', 'compensate', 1)),
    ).toBeNull();
    expect(
      unmatchedReply(orderSaga, compensating, address('reserveCredit', 'compensate', 2)),
    ).toMatch(/never sent/);
  });

  it('leaves unknown steps to decide, and lets late replies through to be ignored', () => {
    expect(unmatchedReply(orderSaga, running, address('noSuchStep', 'forward', 1))).toBeNull();
    const ended = scenario(orderSaga)
      .start(input)
      .reply('reserveCredit', { reservationId: 'cr-1' })
      .reply('reserveInventory', { reservationId: 'inv-1' })
      .reply('chargePayment', { chargeId: 'ch-1' })
      .reply('confirmOrder', { confirmedAt: '2026-01-01T00:00:00Z' }).instance;
    expect(unmatchedReply(orderSaga, ended, address('reserveCredit', 'forward', 1))).toBeNull();
  });
});
